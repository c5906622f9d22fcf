"""The d1 Flux fleet as Pulumi components: one stack per Kubernetes cluster."""
