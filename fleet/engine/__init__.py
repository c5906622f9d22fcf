"""The engine adapter: everything that runs the Pulumi CLI or reads what it writes.

`cli` runs the CLI (one place finds the binary, sets its folder and environment, and turns a
failed command into an error); `backend` is the CLI's rule for which state backend a run uses;
`preview`, `state` and `history` each read one of the engine's formats (`preview --json`,
`stack export`, `stack history --json`); `types` spells the resource type tokens once. The tools
and the real-engine tests go through here, so a reading of the engine is fixed in one place.
"""
