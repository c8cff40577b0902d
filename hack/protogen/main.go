// Command protogen compiles .proto files with github.com/bufbuild/protocompile (no protoc needed)
// and runs protoc plugins (protoc-gen-go, protoc-gen-go-grpc) on them exactly as protoc would:
// it hands each plugin a CodeGeneratorRequest on stdin and writes the files of its
// CodeGeneratorResponse under -out.
//
//	protogen -I ROOT -out DIR -plugin BIN [-plugin BIN...] [-opt paths=source_relative] FILE.proto...
//
// FILE names are relative to ROOT, as protoc's import paths are. hack/generate.sh builds it,
// with the plugins, from this module's pinned versions (hack/tools.sh protogen).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("protogen", flag.ContinueOnError)
	root := fs.String("I", ".", "import root the .proto files are named relative to")
	out := fs.String("out", "", "directory the generated files are written under")
	var plugins, opts multi
	fs.Var(&plugins, "plugin", "path of a protoc plugin to run (repeatable)")
	fs.Var(&opts, "opt", "parameter handed to every plugin (repeatable), such as paths=source_relative")
	if err := fs.Parse(args); err != nil {
		return err
	}
	files := fs.Args()
	if *out == "" || len(plugins) == 0 || len(files) == 0 {
		return errors.New("usage: protogen -I ROOT -out DIR -plugin BIN [-plugin BIN...] [-opt OPT] FILE.proto...")
	}
	compiler := protocompile.Compiler{
		Resolver:       protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{*root}}),
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	compiled, err := compiler.Compile(ctx, files...)
	if err != nil {
		return fmt.Errorf("compiling %s: %w", strings.Join(files, " "), err)
	}
	// Every file the plugins see, dependencies first, as protoc orders them.
	var all []*descriptorpb.FileDescriptorProto
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := range imports.Len() {
			add(imports.Get(i).FileDescriptor)
		}
		all = append(all, protodesc.ToFileDescriptorProto(fd))
	}
	for _, f := range compiled {
		add(f)
	}
	req := &pluginpb.CodeGeneratorRequest{FileToGenerate: files, ProtoFile: all}
	if len(opts) > 0 {
		req.Parameter = proto.String(strings.Join(opts, ","))
	}
	in, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	for _, plugin := range plugins {
		if err := runPlugin(ctx, plugin, in, *out); err != nil {
			return err
		}
	}
	return nil
}

// runPlugin runs one plugin on the request and writes what it generates.
func runPlugin(ctx context.Context, plugin string, req []byte, out string) error {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, plugin)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(req), &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", plugin, err, stderr.Bytes())
	}
	var resp pluginpb.CodeGeneratorResponse
	if err := proto.Unmarshal(stdout.Bytes(), &resp); err != nil {
		return fmt.Errorf("%s: reading its response: %w", plugin, err)
	}
	if resp.Error != nil {
		return fmt.Errorf("%s: %s", plugin, resp.GetError())
	}
	for _, f := range resp.File {
		if f.GetInsertionPoint() != "" {
			return fmt.Errorf("%s: insertion points are not supported (%s)", plugin, f.GetName())
		}
		name := filepath.Clean(f.GetName())
		if filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
			return fmt.Errorf("%s: refusing to write %s outside the output directory", plugin, f.GetName())
		}
		path := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(f.GetContent()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
