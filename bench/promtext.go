package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Sample is one line of the Prometheus text format.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// ParseProm reads the samples of the Prometheus text format (comments skipped; label values may
// hold escaped quotes).
func ParseProm(text string) []Sample {
	var out []Sample
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		s := Sample{Labels: map[string]string{}}
		rest := line
		if i := strings.IndexAny(line, "{ "); i >= 0 && line[i] == '{' {
			s.Name = line[:i]
			rest = line[i+1:]
			for {
				rest = strings.TrimLeft(rest, ", ")
				if strings.HasPrefix(rest, "}") {
					rest = rest[1:]
					break
				}
				eq := strings.Index(rest, `="`)
				if eq < 0 {
					break
				}
				key := rest[:eq]
				rest = rest[eq+2:]
				var val strings.Builder
				for len(rest) > 0 {
					c := rest[0]
					rest = rest[1:]
					if c == '\\' && len(rest) > 0 {
						val.WriteByte(rest[0])
						rest = rest[1:]
						continue
					}
					if c == '"' {
						break
					}
					val.WriteByte(c)
				}
				s.Labels[key] = val.String()
			}
		} else if i >= 0 {
			s.Name, rest = line[:i], line[i:]
		} else {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		s.Value = v
		out = append(out, s)
	}
	return out
}

// SumProm adds the values of the samples named name for which keep (nil: all) is true.
func SumProm(samples []Sample, name string, keep func(map[string]string) bool) float64 {
	total := 0.0
	for _, s := range samples {
		if s.Name == name && (keep == nil || keep(s.Labels)) {
			total += s.Value
		}
	}
	return total
}

// writeVerbs are the apiserver_request_total verbs (and rest_client_requests_total methods) that change state.
var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "DELETE": true, "DELETECOLLECTION": true, "APPLY": true, "CREATE": true, "UPDATE": true}

// IsWriteVerb tells whether a verb or method writes.
func IsWriteVerb(v string) bool { return writeVerbs[strings.ToUpper(v)] }

// WritesByKind sums the apiserver's write requests by verb and resource (with its subresource),
// e.g. "PUT scaledobjects/status": what a count of writes is made of.
func WritesByKind(samples []Sample) map[string]float64 {
	return RequestsByKind(samples, IsWriteVerb)
}

// RequestsByKind is apiserver_request_total of the verbs keep accepts by verb and resource (and
// subresource), e.g. "GET horizontalpodautoscalers".
func RequestsByKind(samples []Sample, keep func(verb string) bool) map[string]float64 {
	out := map[string]float64{}
	for _, s := range samples {
		if s.Name != "apiserver_request_total" || s.Labels["resource"] == "" || !keep(s.Labels["verb"]) {
			continue
		}
		kind := s.Labels["verb"] + " " + s.Labels["resource"]
		if sub := s.Labels["subresource"]; sub != "" {
			kind += "/" + sub
		}
		out[kind] += s.Value
	}
	return out
}

// ProcStat is a process's resident memory and CPU time so far.
type ProcStat struct {
	RSSBytes float64
	// RSSFileBytes is the file-backed part of RSS (RssFile): mostly the executable's own pages,
	// which the kernel can drop and read again, unlike the heap.
	RSSFileBytes float64
	CPUSecs      float64
}

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100

// ReadProcStat reads /proc/PID/status (VmRSS) and /proc/PID/stat (utime+stime).
func ReadProcStat(pid int) (ProcStat, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcStat{}, err
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcStat{}, err
	}
	return parseProc(string(status), string(stat))
}

func parseProc(status, stat string) (ProcStat, error) {
	var ps ProcStat
	for line := range strings.Lines(status) {
		for prefix, into := range map[string]*float64{"VmRSS:": &ps.RSSBytes, "RssFile:": &ps.RSSFileBytes} {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				f := strings.Fields(rest)
				if len(f) >= 1 {
					kb, err := strconv.ParseFloat(f[0], 64)
					if err != nil {
						return ps, fmt.Errorf("bad %s line %q", prefix, line)
					}
					*into = kb * 1024
				}
			}
		}
	}
	// The command name (field 2) may hold spaces: fields count from after its closing parenthesis.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return ps, fmt.Errorf("bad /proc stat %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	// After ")": state is field 3, so utime (14) and stime (15) are f[11] and f[12].
	if len(f) < 13 {
		return ps, fmt.Errorf("short /proc stat %q", stat)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return ps, fmt.Errorf("bad /proc stat times %q", stat)
	}
	ps.CPUSecs = (ut + st) / clockTicks
	return ps, nil
}

// countLines counts the lines of a file that contain s.
func countLines(path, s string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n := 0
	for line := range strings.Lines(string(b)) {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}
