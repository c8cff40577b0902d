package resolve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// maxAuthFileSize bounds what a filePath authentication reads, so that a mistaken path (a log, a
// database) cannot make the operator load a huge file every resync.
const maxAuthFileSize = 1 << 20

// fileParams reads the parameters of a ClusterTriggerAuthentication's spec.filePath: a JSON object
// of parameter names to values, in a file under root (the operator's --filepath-auth-root-path).
// The file is read again on every resolve, so a rotated credential takes effect at the next
// resync without a restart. os.Root refuses any path that leaves root, through ".." or through a
// symbolic link, so a ClusterTriggerAuthentication cannot read the operator's own ServiceAccount
// token or any other file outside the directory the operator was told to share. Errors name the
// file, never its content.
func fileParams(root, rel string) (map[string]string, error) {
	if root == "" {
		return nil, fmt.Errorf("spec.filePath needs the operator to be started with --filepath-auth-root-path (the directory holding the credential files); it is not set")
	}
	if !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("spec.filePath %q leaves --filepath-auth-root-path: give a path relative to that directory, without ..", rel)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("failed to open --filepath-auth-root-path %s: %w", root, err)
	}
	defer r.Close()
	f, err := r.Open(rel)
	if err != nil {
		// os.Root says "path escapes from parent" for a symbolic link that points outside root.
		return nil, fmt.Errorf("failed to read spec.filePath %q under --filepath-auth-root-path %s: %w", rel, root, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxAuthFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read spec.filePath %q under %s: %w", rel, root, err)
	}
	if len(data) > maxAuthFileSize {
		return nil, fmt.Errorf("spec.filePath %q under %s is larger than %d bytes: point it at a JSON file of parameters", rel, root, maxAuthFileSize)
	}
	return decodeParams(data, rel)
}

// decodeParams parses {"parameter": "value", ...}. Numbers and booleans are taken as their text, as
// a YAML or JSON author would expect "port": 6379 to work. The JSON decoder's own messages quote
// the offending input, so they are replaced by the offset alone.
func decodeParams(data []byte, rel string) (map[string]string, error) {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		where := ""
		var se *json.SyntaxError
		if errors.As(err, &se) {
			where = " (invalid JSON at byte " + strconv.FormatInt(se.Offset, 10) + ")"
		}
		return nil, fmt.Errorf("spec.filePath %q is not a JSON object of parameter names to values%s: write it as {\"password\": \"...\"}", rel, where)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			out[k] = v
		case bool:
			out[k] = strconv.FormatBool(v)
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			return nil, fmt.Errorf("spec.filePath %q: parameter %q is not a string, number or boolean: give each parameter a plain value", rel, k)
		}
	}
	return out, nil
}
