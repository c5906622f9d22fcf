"""Tools that run the program from outside: deploy, offline render, conformance, diff, ephemeral fleets.

They import `fleet.program`; the program never imports them.
"""
