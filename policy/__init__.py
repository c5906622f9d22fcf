"""The fleet's Pulumi policy pack (CrossGuard): `pulumi preview --policy-pack policy`."""
