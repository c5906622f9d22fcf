"""The stack's configuration: from the stack file to the typed settings the components receive.

Values flow one way, each step a module: `sources` (secret values from the environment),
`formats` (each value on its own), `model` (the `Settings` every key fills), `keys` (what
Pulumi.yaml declares), `rules` (checks across keys), `parse` (raw values to `Settings`, every
problem at once), `fleet` (rules across the fleet's stack files), `kube_access`, `expiry`, and
`load`, the one entry point the program calls. Nothing here declares a resource.
"""
