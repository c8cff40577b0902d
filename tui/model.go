// Package tui is `kubectl keda` with no arguments: a full-screen live view of ScaledObjects, their
// triggers against targets, and the diagnosis of the selected one. bubbletea's architecture: the
// cluster is read only in commands (Source), whose results arrive as messages; View renders state.
package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/kedactl/kedactl/plugin/commands"
)

type mode int

const (
	modeList mode = iota
	modeDetail
	modeFilter
	modeNamespace
	modeTransfer
	modeConfirm
)

// historyLen is how many samples a sparkline keeps.
const historyLen = 30

// Options configures a Model.
type Options struct {
	Namespace string
	// Refresh is how often the list is re-read from the informers' cache.
	Refresh time.Duration
	// DetailRefresh is how often the selected object's details are read from the apiserver.
	DetailRefresh time.Duration
	NoColor       bool
	// Now is the clock the details are read by (a Job's age is as of its read); time.Now unless
	// a test fixes it.
	Now func() time.Time
}

// Model is the TUI's state.
type Model struct {
	src    Source
	opts   Options
	keys   KeyMap
	help   help.Model
	styles styles

	width, height int
	namespace     string
	objects       []Object
	filter        string
	mode          mode
	prevMode      mode
	input         string
	cursor        int
	selected      ref // the object in the detail view

	detail    *commands.Description
	detailErr error
	// detailAt is when detail was read: ages in it are shown as of then, so View needs no clock.
	detailAt time.Time
	// metrics is the raw external.metrics answer for the selected object, when asked for with m.
	metrics     []commands.MetricRow
	metricsErr  error
	showMetrics bool
	confirm     confirmAction
	history     map[string][]float64
	status      string
	err         error
	showHelp    bool
}

// confirmAction is a change waiting for y: pause/resume, or (hpa set) adopting an HPA.
type confirmAction struct {
	target ref
	pause  bool
	hpa    string
}

// prompt is the question the confirmation asks.
func (a confirmAction) prompt() string {
	what := a.target.String()
	if a.target.kind == commands.KindScaledJob {
		what = "ScaledJob " + what
	}
	switch {
	case a.hpa != "":
		return fmt.Sprintf("Transfer HPA %s to ScaledObject %s?", a.hpa, what)
	case a.pause:
		return fmt.Sprintf("Pause autoscaling of %s?", what)
	}
	return fmt.Sprintf("Resume autoscaling of %s?", what)
}

type (
	objectsMsg struct {
		objects []Object
		err     error
	}
	describeMsg struct {
		key  ref
		desc *commands.Description
		err  error
		at   time.Time
	}
	pausedMsg struct {
		action confirmAction
		err    error
	}
	metricsMsg struct {
		key  ref
		rows []commands.MetricRow
		err  error
	}
	transferredMsg struct {
		outcome string
		err     error
	}
	listTickMsg   struct{}
	detailTickMsg struct{ key ref }
)

// New returns the TUI's model reading from src.
func New(src Source, opts Options) Model {
	if opts.Refresh <= 0 {
		opts.Refresh = time.Second
	}
	if opts.DetailRefresh <= 0 {
		opts.DetailRefresh = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := help.New()
	if opts.NoColor {
		h.Styles = help.Styles{}
	}
	return Model{src: src, opts: opts, keys: DefaultKeyMap(), help: h, styles: newStyles(opts.NoColor),
		namespace: opts.Namespace, history: map[string][]float64{}, width: 80, height: 24}
}

// Init loads the list and starts the refresh ticks.
func (m Model) Init() tea.Cmd {
	return tea.Batch(m.loadObjects(), m.listTick())
}

func (m Model) loadObjects() tea.Cmd {
	src, ns := m.src, m.namespace
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		objs, err := src.Objects(ctx, ns)
		return objectsMsg{objects: objs, err: err}
	}
}

func (m Model) describe(r ref) tea.Cmd {
	src, now := m.src, m.opts.Now
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		d, err := src.Describe(ctx, r.kind, r.namespace, r.name)
		return describeMsg{key: r, desc: d, err: err, at: now()}
	}
}

func (m Model) setPaused(a confirmAction) tea.Cmd {
	src := m.src
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return pausedMsg{action: a, err: src.SetPaused(ctx, a.target.kind, a.target.namespace, a.target.name, a.pause)}
	}
}

func (m Model) readMetrics(r ref) tea.Cmd {
	src := m.src
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rows, err := src.Metrics(ctx, r.namespace, r.name)
		return metricsMsg{key: r, rows: rows, err: err}
	}
}

func (m Model) transferHPA(a confirmAction) tea.Cmd {
	src := m.src
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		outcome, err := src.TransferHPA(ctx, a.target.namespace, a.target.name, a.hpa)
		return transferredMsg{outcome: outcome, err: err}
	}
}

func (m Model) listTick() tea.Cmd {
	return tea.Tick(m.opts.Refresh, func(time.Time) tea.Msg { return listTickMsg{} })
}

func (m Model) detailTick(key ref) tea.Cmd {
	return tea.Tick(m.opts.DetailRefresh, func(time.Time) tea.Msg { return detailTickMsg{key: key} })
}

// Update is the state machine; it does no I/O itself.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case objectsMsg:
		m.err = msg.err
		if msg.err == nil {
			m.objects = msg.objects
			sort.Slice(m.objects, func(i, j int) bool { return lessRef(m.objects[i].ref(), m.objects[j].ref()) })
			m.record()
			m.clampCursor()
		}
		return m, nil
	case listTickMsg:
		return m, tea.Batch(m.loadObjects(), m.listTick())
	case detailTickMsg:
		if m.mode == modeDetail && msg.key == m.selected {
			cmds := []tea.Cmd{m.describe(msg.key), m.detailTick(msg.key)}
			if m.showMetrics {
				cmds = append(cmds, m.readMetrics(msg.key))
			}
			return m, tea.Batch(cmds...)
		}
		return m, nil
	case describeMsg:
		if msg.key == m.selected {
			m.detail, m.detailErr, m.detailAt = msg.desc, msg.err, msg.at
		}
		return m, nil
	case metricsMsg:
		if msg.key == m.selected {
			m.metrics, m.metricsErr = msg.rows, msg.err
		}
		return m, nil
	case transferredMsg:
		if msg.err != nil {
			m.status = "error: " + msg.err.Error()
		} else {
			m.status = msg.outcome
		}
		return m, m.loadObjects()
	case pausedMsg:
		verb := "resumed"
		if msg.action.pause {
			verb = "paused"
		}
		if msg.err != nil {
			m.status = "error: " + msg.err.Error()
		} else {
			m.status = fmt.Sprintf("%s %s", msg.action.target, verb)
		}
		return m, m.loadObjects()
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	}
	return m, nil
}

func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch m.mode {
	case modeFilter, modeNamespace, modeTransfer:
		return m.handleInput(msg)
	case modeConfirm:
		switch {
		case key.Matches(msg, m.keys.Confirm):
			m.mode = m.prevMode
			if m.confirm.hpa != "" {
				m.status = "transferring HPA " + m.confirm.hpa + "…"
				return m, m.transferHPA(m.confirm)
			}
			return m, m.setPaused(m.confirm)
		case key.Matches(msg, m.keys.Cancel):
			m.mode = m.prevMode
			m.status = "cancelled"
		}
		return m, nil
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m, tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.showHelp = !m.showHelp
	case key.Matches(msg, m.keys.Back):
		if m.showHelp {
			m.showHelp = false
		} else if m.mode == modeDetail {
			m.mode, m.selected, m.detail, m.detailErr = modeList, ref{}, nil, nil
			m.metrics, m.metricsErr, m.showMetrics = nil, nil, false
		} else if m.filter != "" {
			m.filter = ""
		}
	case key.Matches(msg, m.keys.Up):
		if m.mode == modeList && m.cursor > 0 {
			m.cursor--
		}
	case key.Matches(msg, m.keys.Down):
		if m.mode == modeList && m.cursor < len(m.visible())-1 {
			m.cursor++
		}
	case key.Matches(msg, m.keys.Enter):
		if o := m.current(); o != nil && m.mode == modeList {
			m.mode, m.selected, m.detail, m.detailErr = modeDetail, o.ref(), nil, nil
			return m, tea.Batch(m.describe(m.selected), m.detailTick(m.selected))
		}
	case key.Matches(msg, m.keys.Filter):
		if m.mode == modeList {
			m.prevMode, m.mode, m.input = m.mode, modeFilter, m.filter
		}
	case key.Matches(msg, m.keys.Namespace):
		if m.mode == modeList {
			m.prevMode, m.mode, m.input = m.mode, modeNamespace, m.namespace
		}
	case key.Matches(msg, m.keys.Metrics):
		if m.mode == modeDetail {
			if m.selected.kind == commands.KindScaledJob {
				m.status = noExternalMetrics
				return m, nil
			}
			m.showMetrics = !m.showMetrics
			if m.showMetrics {
				return m, m.readMetrics(m.selected)
			}
		}
	case key.Matches(msg, m.keys.Transfer):
		if o := m.target(); o != nil {
			if o.ScaledJob != nil {
				m.status = noHPA
				return m, nil
			}
			m.confirm = confirmAction{target: o.ref()}
			m.prevMode, m.mode, m.input = m.mode, modeTransfer, ""
		}
	case key.Matches(msg, m.keys.Pause), key.Matches(msg, m.keys.Resume):
		if o := m.target(); o != nil {
			m.confirm = confirmAction{target: o.ref(), pause: key.Matches(msg, m.keys.Pause)}
			m.prevMode, m.mode = m.mode, modeConfirm
		}
	}
	return m, nil
}

func (m Model) handleInput(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch msg.String() {
	case "enter":
		done := m.mode
		m.mode = m.prevMode
		switch done {
		case modeFilter:
			m.filter, m.cursor = m.input, 0
			return m, nil
		case modeTransfer:
			if hpa := strings.TrimSpace(m.input); hpa != "" {
				m.confirm.hpa = hpa
				m.mode = modeConfirm
			}
			return m, nil
		}
		m.namespace, m.cursor, m.objects = strings.TrimSpace(m.input), 0, nil
		return m, m.loadObjects()
	case "esc":
		m.mode = m.prevMode
	case "backspace":
		if r := []rune(m.input); len(r) > 0 {
			m.input = string(r[:len(r)-1])
		}
	default:
		if t := msg.Key().Text; t != "" {
			m.input += t
		}
	}
	return m, nil
}

// visible is the filtered list.
func (m Model) visible() []Object {
	if m.filter == "" {
		return m.objects
	}
	var out []Object
	for _, o := range m.objects {
		if strings.Contains(o.ref().String(), m.filter) {
			out = append(out, o)
		}
	}
	return out
}

func (m Model) current() *Object {
	v := m.visible()
	if m.cursor < 0 || m.cursor >= len(v) {
		return nil
	}
	return &v[m.cursor]
}

// target is the object a pause/resume applies to: the selected one in detail, else the cursor's.
func (m Model) target() *Object {
	if m.mode == modeDetail {
		return m.selectedObject()
	}
	return m.current()
}

// selectedObject is the object of the detail view, nil once it is gone.
func (m Model) selectedObject() *Object {
	for i := range m.objects {
		if m.objects[i].ref() == m.selected {
			return &m.objects[i]
		}
	}
	return nil
}

func (m *Model) clampCursor() {
	if n := len(m.visible()); m.cursor >= n {
		m.cursor = max(n-1, 0)
	}
}

// record appends each external metric's current value, as the HPA last read it, to its sparkline.
func (m *Model) record() {
	for i := range m.objects {
		o := &m.objects[i]
		if o.HPA == nil {
			continue
		}
		for name, v := range hpaValues(o.HPA) {
			k := o.ref().String() + "/" + name
			h := append(m.history[k], v)
			if len(h) > historyLen {
				h = h[len(h)-historyLen:]
			}
			m.history[k] = h
		}
	}
}

// hpaValues is each external metric's value as the HPA last read it, by metric name. For an
// AverageValue metric the HPA keeps the value divided by its current replicas; multiplying back
// gives the metric's total (to the HPA's rounding), which is what the trigger's target, activation
// threshold and `kubectl keda top` speak of. This costs no request: the list reads only informers.
func hpaValues(hpa *autoscalingv2.HorizontalPodAutoscaler) map[string]float64 {
	out := map[string]float64{}
	for _, cm := range hpa.Status.CurrentMetrics {
		if cm.Type != autoscalingv2.ExternalMetricSourceType || cm.External == nil {
			continue
		}
		switch cur := cm.External.Current; {
		case cur.AverageValue != nil:
			out[cm.External.Metric.Name] = cur.AverageValue.AsApproximateFloat64() * float64(hpa.Status.CurrentReplicas)
		case cur.Value != nil:
			out[cm.External.Metric.Name] = cur.Value.AsApproximateFloat64()
		}
	}
	return out
}

// lessRef orders the list as kubectl does: by namespace, then name; a ScaledObject before a
// ScaledJob of the same name.
func lessRef(a, b ref) bool {
	if a.namespace != b.namespace {
		return a.namespace < b.namespace
	}
	if a.name != b.name {
		return a.name < b.name
	}
	return a.kind > b.kind
}

// What the detail view says when a ScaledJob is asked for what only ScaledObjects have.
const (
	noExternalMetrics = "raw metrics are a ScaledObject's: a ScaledJob's trigger values are in its details"
	noHPA             = "a ScaledJob has no HPA to transfer"
)
