// Module images builds the operator's OCI image layout (make images) with Go tooling only, no Docker.
// It is separate from the product's module so that the product does not depend on
// go-containerregistry.
module github.com/kedactl/kedactl/hack/images

go 1.26.0

require (
	github.com/google/go-containerregistry v0.22.1
	go.yaml.in/yaml/v3 v3.0.4
)

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
	golang.org/x/sync v0.22.0 // indirect
)
