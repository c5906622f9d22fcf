// Command pulumi-resource-kubernetes serves the Kubernetes provider library with the schema and
// mapping the provider module ships, read at start from the module's directory in the Go module
// cache (fixed at build time with -X main.dataDir), so no file of the module is copied.
package main

import (
	"encoding/json"
	"log"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

// dataDir is the provider module's cmd/pulumi-resource-kubernetes folder.
var dataDir string

func main() {
	schema := readJSON("schema.json")
	// The published build stamps its version into the schema; the engine compares the two.
	schema["version"] = version.Version
	mapping := readJSON("terraform-mapping.json")
	provider.Serve("kubernetes", version.Version, marshal(schema), marshal(mapping))
}

func readJSON(name string) map[string]any {
	raw, err := os.ReadFile(filepath.Join(dataDir, name))
	if err != nil {
		log.Fatalf("read %s (built with -X main.dataDir?): %v", name, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		log.Fatalf("parse %s: %v", name, err)
	}
	return doc
}

func marshal(doc map[string]any) []byte {
	out, err := json.Marshal(doc)
	if err != nil {
		log.Fatal(err)
	}
	return out
}
