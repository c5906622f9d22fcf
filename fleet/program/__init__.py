"""The Pulumi program: what one cluster stack declares (settings, providers and components)."""
