"""Operations on one stack through the Pulumi CLI: preflight, init, up and preview, adopt, and the
operator chart's signature check."""
