"""What the Flux bot (or the GitHub App) gets on GitHub: the fleet-wide plan and its components.

`plan` decides, without any SDK, what the owner stack declares for every credential mode of the
fleet; `team` declares the bot team and its grants, `app` the App installation's grants. Only the
owner stack imports the components (and with them the GitHub SDK).
"""
