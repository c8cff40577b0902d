// Package output prints the rows of the plugin's list-like commands (top, metrics) the way kubectl
// prints what it gets: a server-side style table through cli-runtime's table printer by default,
// and the rows' objects through cli-runtime's json, yaml, name, jsonpath and go-template printers,
// with kubectl's --output, --no-headers and --sort-by flags.
package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/util/jsonpath"
)

// Table is one kind of row: its columns (Priority 1 is shown with -o wide only, as in kubectl's
// server-side tables) and its rows.
type Table struct {
	Columns []metav1.TableColumnDefinition
	Rows    []Row
}

// Row is one printed line: its cells, the object behind it (what json, yaml, jsonpath, go-template,
// custom-columns and --sort-by read) and the Kubernetes object it is about (what -o name prints).
type Row struct {
	Cells  []any
	Object any
	Ref    Ref
}

// Ref names a Kubernetes object for -o name.
type Ref struct {
	GroupVersionKind schema.GroupVersionKind
	Namespace, Name  string
}

// Flags are kubectl's output flags: cli-runtime's PrintFlags (-o json|yaml|name|jsonpath=...|
// go-template=...|template file) plus the table's own formats (wide, custom-columns=...),
// --no-headers and --sort-by.
type Flags struct {
	Printing  *genericclioptions.PrintFlags
	NoHeaders bool
	SortBy    string
}

// NewFlags returns the flags with the table as the default output.
func NewFlags() *Flags {
	return &Flags{Printing: genericclioptions.NewPrintFlags("")}
}

// AddFlags binds the flags to cmd.
func (f *Flags) AddFlags(cmd *cobra.Command) {
	f.Printing.AddFlags(cmd)
	cmd.Flag("output").Usage = fmt.Sprintf("Output format. One of: (%s).", strings.Join(f.AllowedFormats(), ", "))
	cmd.Flags().BoolVar(&f.NoHeaders, "no-headers", false, "When using the default, wide or custom-column output format, don't print headers.")
	cmd.Flags().StringVar(&f.SortBy, "sort-by", "", "Sort the rows by this JSONPath expression on their objects (see -o json), e.g. '{.value}'.")
}

// AllowedFormats lists what --output accepts.
func (f *Flags) AllowedFormats() []string {
	return append([]string{"wide", "custom-columns="}, f.Printing.AllowedFormats()...)
}

// Format is --output.
func (f *Flags) Format() string { return *f.Printing.OutputFormat }

// Table tells whether the output is a table (the default, wide or custom columns), whose
// emptiness a command reports itself and which -w redraws in place.
func (f *Flags) Table() bool {
	o := f.Format()
	return o == "" || o == "wide" || strings.HasPrefix(o, "custom-columns=")
}

// Validate checks --output and --sort-by before anything is read from the cluster.
func (f *Flags) Validate() error {
	if _, err := f.printer(); err != nil {
		return err
	}
	if f.SortBy != "" {
		if _, err := parseJSONPath("--sort-by", f.SortBy); err != nil {
			return err
		}
	}
	return nil
}

// printer returns cli-runtime's printer for the object formats, nil for the table formats and
// name (printed from the rows' Refs).
func (f *Flags) printer() (printers.ResourcePrinter, error) {
	o := f.Format()
	switch {
	case f.Table() || o == "name":
		if strings.HasPrefix(o, "custom-columns=") {
			if _, err := customColumns(strings.TrimPrefix(o, "custom-columns=")); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	p, err := f.Printing.ToPrinter()
	if err != nil {
		return nil, fmt.Errorf("--output %q is not supported: use one of %s", o, strings.Join(f.AllowedFormats(), ", "))
	}
	return p, nil
}

// Print writes the tables in the chosen format: each non-empty table on its own (a blank line
// between) for the table formats, one list of every row's object otherwise.
func (f *Flags) Print(w io.Writer, tables ...Table) error {
	p, err := f.printer()
	if err != nil {
		return err
	}
	sorted := make([]Table, len(tables))
	for i, t := range tables {
		rows, err := sortRows(t.Rows, f.SortBy)
		if err != nil {
			return err
		}
		sorted[i] = Table{Columns: t.Columns, Rows: rows}
	}
	o := f.Format()
	switch {
	case strings.HasPrefix(o, "custom-columns="):
		cols, _ := customColumns(strings.TrimPrefix(o, "custom-columns="))
		var rows []Row
		for _, t := range sorted {
			rows = append(rows, t.Rows...)
		}
		t, err := cols.table(rows)
		if err != nil {
			return err
		}
		return printers.NewTablePrinter(printers.PrintOptions{NoHeaders: f.NoHeaders}).PrintObj(t, w)
	case f.Table():
		return f.printTables(w, sorted)
	case o == "name":
		return printNames(w, sorted)
	}
	// Items is never null: an empty List reads as kubectl's, "items": [].
	list := &corev1.List{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}, Items: []runtime.RawExtension{}}
	for _, t := range sorted {
		for _, r := range t.Rows {
			raw, err := marshal(r.Object)
			if err != nil {
				return fmt.Errorf("failed to encode a row for --output %s: %w", o, err)
			}
			list.Items = append(list.Items, runtime.RawExtension{Raw: raw})
		}
	}
	return p.PrintObj(list, w)
}

func (f *Flags) printTables(w io.Writer, tables []Table) error {
	opts := printers.PrintOptions{NoHeaders: f.NoHeaders, Wide: f.Format() == "wide"}
	printed := false
	for i, t := range tables {
		// The only table, even empty, prints its headers (as kubectl's would); an empty one
		// among several is left out.
		if len(t.Rows) == 0 && (printed || i < len(tables)-1) {
			continue
		}
		if printed && !f.NoHeaders {
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
		}
		// A printer per table: they have different columns, each with its own headers.
		if err := printers.NewTablePrinter(opts).PrintObj(t.metav1Table(), w); err != nil {
			return err
		}
		printed = true
	}
	return nil
}

func (t Table) metav1Table() *metav1.Table {
	out := &metav1.Table{ColumnDefinitions: t.Columns}
	for _, r := range t.Rows {
		out.Rows = append(out.Rows, metav1.TableRow{Cells: r.Cells})
	}
	return out
}

// printNames prints each object the rows are about once, as kind.group/name.
func printNames(w io.Writer, tables []Table) error {
	p := &printers.NamePrinter{}
	seen := map[Ref]bool{}
	for _, t := range tables {
		for _, r := range t.Rows {
			if seen[r.Ref] || r.Ref.Name == "" {
				continue
			}
			seen[r.Ref] = true
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(r.Ref.GroupVersionKind)
			u.SetNamespace(r.Ref.Namespace)
			u.SetName(r.Ref.Name)
			if err := p.PrintObj(u, w); err != nil {
				return err
			}
		}
	}
	return nil
}

// marshal is json.Marshal without HTML escaping: a value of <error> prints as such.
func marshal(obj any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// generic turns an object into the maps and slices a JSONPath walks, as its JSON reads.
func generic(obj any) (any, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(raw, &out)
	return out, err
}

// parseJSONPath accepts kubectl's forms: {.a.b}, .a.b and a.b.
func parseJSONPath(flag, expr string) (*jsonpath.JSONPath, error) {
	e := strings.TrimSpace(expr)
	if !strings.HasPrefix(e, "{") {
		if !strings.HasPrefix(e, ".") {
			e = "." + e
		}
		e = "{" + e + "}"
	}
	jp := jsonpath.New(flag).AllowMissingKeys(true)
	if err := jp.Parse(e); err != nil {
		return nil, fmt.Errorf("%s %q is not a JSONPath expression (write it as kubectl's, e.g. '{.value}'): %w", flag, expr, err)
	}
	return jp, nil
}

// sortRows orders rows by the value of expr in their objects, stably, numbers by value (also when
// written as text, as the rows' values are) and the rest as text; rows without the value come
// first, as kubectl's --sort-by puts them.
func sortRows(rows []Row, expr string) ([]Row, error) {
	out := append([]Row(nil), rows...)
	if expr == "" {
		return out, nil
	}
	jp, err := parseJSONPath("--sort-by", expr)
	if err != nil {
		return nil, err
	}
	keys := make([]any, len(out))
	for i, r := range out {
		obj, err := generic(r.Object)
		if err != nil {
			return nil, fmt.Errorf("failed to read a row for --sort-by: %w", err)
		}
		results, err := jp.FindResults(obj)
		if err != nil {
			return nil, fmt.Errorf("--sort-by %q: %w", expr, err)
		}
		if len(results) > 0 && len(results[0]) > 0 {
			keys[i] = results[0][0].Interface()
		}
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return less(keys[idx[a]], keys[idx[b]]) })
	sortedRows := make([]Row, len(out))
	for i, j := range idx {
		sortedRows[i] = out[j]
	}
	return sortedRows, nil
}

func less(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b != nil
	}
	fa, aNum := number(a)
	fb, bNum := number(b)
	if aNum && bNum {
		return fa < fb
	}
	return fmt.Sprint(a) < fmt.Sprint(b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

// columns is a parsed -o custom-columns=HEADER:.path,... .
type columns []struct {
	header string
	path   *jsonpath.JSONPath
}

func customColumns(spec string) (columns, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("-o custom-columns= needs columns: -o custom-columns=HEADER:.path,HEADER2:.path2")
	}
	var cols columns
	for _, part := range strings.Split(spec, ",") {
		header, expr, ok := strings.Cut(part, ":")
		if !ok || header == "" || expr == "" {
			return nil, fmt.Errorf("-o custom-columns: %q is not HEADER:.path (e.g. VALUE:.value)", part)
		}
		jp, err := parseJSONPath("-o custom-columns column "+header, expr)
		if err != nil {
			return nil, err
		}
		cols = append(cols, struct {
			header string
			path   *jsonpath.JSONPath
		}{header, jp})
	}
	return cols, nil
}

// table evaluates the columns on every row's object; a missing value prints <none>, as kubectl's.
func (c columns) table(rows []Row) (*metav1.Table, error) {
	t := &metav1.Table{}
	for _, col := range c {
		t.ColumnDefinitions = append(t.ColumnDefinitions, metav1.TableColumnDefinition{Name: col.header, Type: "string"})
	}
	for _, r := range rows {
		obj, err := generic(r.Object)
		if err != nil {
			return nil, fmt.Errorf("failed to read a row for -o custom-columns: %w", err)
		}
		cells := make([]any, 0, len(c))
		for _, col := range c {
			results, err := col.path.FindResults(obj)
			if err != nil {
				return nil, err
			}
			var vals []string
			for _, rs := range results {
				for _, v := range rs {
					if v.IsValid() && !(v.Kind() == reflect.Interface && v.IsNil()) {
						vals = append(vals, fmt.Sprint(v.Interface()))
					}
				}
			}
			cell := strings.Join(vals, ",")
			if len(vals) == 0 {
				cell = "<none>"
			}
			cells = append(cells, cell)
		}
		t.Rows = append(t.Rows, metav1.TableRow{Cells: cells})
	}
	return t, nil
}
