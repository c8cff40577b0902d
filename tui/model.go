// Package tui is `kubectl keda` with no arguments: a full-screen live view of ScaledObjects, their
// triggers against targets, and the diagnosis of the selected one. bubbletea's architecture: the
// cluster is read only in commands (Source), whose results arrive as messages; View renders state.
package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/kedactl/kedactl/plugin/commands"
	"github.com/kedactl/kedactl/plugin/kedaclient"
	"github.com/kedactl/kedactl/tui/samples"
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

// historyLen is how many readings a sparkline keeps.
const historyLen = 8

// ringLen is how many distinct samples the chart keeps per object (runs of equal ones count once).
const ringLen = 240

// Options configures a Model.
type Options struct {
	Namespace string
	// Refresh is how often the list is re-read from the informers' cache.
	Refresh time.Duration
	// DetailRefresh is how often the selected object's details are read from the apiserver.
	DetailRefresh time.Duration
	// ValuesRefresh is how often the values the HPA has no reading of (idle targets) are read
	// from the external metrics API for the rows on screen: the HPA's own period by default, as
	// each read reaches the trigger's source.
	ValuesRefresh time.Duration
	NoColor       bool
	// Now is the clock the details and samples are read by (a Job's age is as of its read);
	// time.Now unless a test fixes it.
	Now func() time.Time
	// History seeds the chart of an object when its detail view opens (the operator's history);
	// nil leaves the chart with what the TUI records while it runs.
	History samples.Source
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
	index         map[ref]int // objects by ref
	jobs          int         // how many of objects are ScaledJobs
	// rows is the list as shown: filtered, sorted and rendered when its inputs change, so that a
	// frame only lays out the rows on screen; offset is the first on screen.
	rows     []listRow
	widths   [sortColumns]int
	offset   int
	sortCol  sortColumn
	sortDesc bool
	// values are the external metrics API's answers (what `kubectl keda top` shows) for triggers
	// the HPA has no reading of, by ref/metric: an idle target's HPA does not read its metrics.
	values        map[string]float64
	readingValues bool
	// rings are each ScaledObject's samples for the chart, sampledAt the newest list read.
	rings     map[ref]*samples.Ring
	sampledAt time.Time
	// seeded is what the History source said of the selected object.
	seeded    *samples.History
	showChart bool
	filter    string
	mode      mode
	prevMode  mode
	input     string
	cursor    int
	selected  ref // the object in the detail view

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
		at      time.Time
	}
	valuesMsg struct {
		// asked are the ref/metric keys read; those missing from values failed.
		asked  []string
		values map[string]float64
	}
	historyMsg struct {
		key  ref
		hist samples.History
		err  error
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
	valuesTickMsg struct{}
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
	if opts.ValuesRefresh <= 0 {
		opts.ValuesRefresh = 15 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := help.New()
	if opts.NoColor {
		h.Styles = help.Styles{}
	}
	return Model{src: src, opts: opts, keys: DefaultKeyMap(), help: h, styles: newStyles(opts.NoColor),
		namespace: opts.Namespace, history: map[string][]float64{}, values: map[string]float64{},
		rings: map[ref]*samples.Ring{}, index: map[ref]int{}, showChart: true, width: 80, height: 24}
}

// Init loads the list and starts the refresh ticks.
func (m Model) Init() tea.Cmd {
	return tea.Batch(m.loadObjects(), m.listTick(), m.valuesTick())
}

func (m Model) loadObjects() tea.Cmd {
	src, ns, now := m.src, m.namespace, m.opts.Now
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		objs, err := src.Objects(ctx, ns)
		return objectsMsg{objects: objs, err: err, at: now()}
	}
}

// valueQuery is one object whose triggers' values are read from the external metrics API.
type valueQuery struct {
	ref     ref
	metrics []string
}

// readValues reads, as `kubectl keda top` does, the values the HPA has no reading of, for the
// ScaledObjects on screen only: the requests are bounded by the terminal's height, not by the
// number of objects, and each reaches the trigger's source as an HPA read would.
func (m Model) readValues() tea.Cmd {
	var queries []valueQuery
	end := min(m.offset+m.listHeight(), len(m.rows))
	for i := m.offset; i < end; i++ {
		o := m.object(m.rows[i].ref)
		if o == nil || o.ScaledJob != nil || o.HPA == nil {
			continue
		}
		var q valueQuery
		for _, name := range o.ScaledObject.Status.ExternalMetricNames {
			if _, ok := hpaValue(o.HPA, name); !ok {
				q.metrics = append(q.metrics, name)
			}
		}
		if len(q.metrics) > 0 {
			q.ref = o.ref()
			queries = append(queries, q)
		}
	}
	if len(queries) == 0 {
		return nil
	}
	src := m.src
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		msg := valuesMsg{values: map[string]float64{}}
		for _, q := range queries {
			prefix := q.ref.String() + "/"
			for _, name := range q.metrics {
				msg.asked = append(msg.asked, prefix+name)
			}
			vals, err := src.TriggerValues(ctx, q.ref.namespace, q.ref.name, q.metrics)
			if errors.Is(err, kedaclient.ErrNoMetricsAPI) {
				break // every other object would fail the same way
			}
			if err != nil {
				continue // the value stays unknown (?); describe and top say why
			}
			for name, v := range vals {
				msg.values[prefix+name] = v
			}
		}
		return msg
	}
}

func (m Model) readHistory(r ref) tea.Cmd {
	src, now := m.opts.History, m.opts.Now
	if src == nil || r.kind != commands.KindScaledObject {
		return nil
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h, err := src.History(ctx, r.kind, r.namespace, r.name, now().Add(-chartMaxSpan))
		return historyMsg{key: r, hist: h, err: err}
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

func (m Model) valuesTick() tea.Cmd {
	return tea.Tick(m.opts.ValuesRefresh, func(time.Time) tea.Msg { return valuesTickMsg{} })
}

func (m Model) detailTick(key ref) tea.Cmd {
	return tea.Tick(m.opts.DetailRefresh, func(time.Time) tea.Msg { return detailTickMsg{key: key} })
}

// Update is the state machine; it does no I/O itself.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.scrollTo() // the cursor stays on screen
		return m, nil
	case objectsMsg:
		m.err = msg.err
		if msg.err != nil {
			return m, nil
		}
		first := m.objects == nil
		m.setObjects(msg.objects)
		m.record(msg.at)
		m.refreshRows()
		if first {
			// The idle objects' values, without waiting for the first tick.
			return m, m.readValues()
		}
		return m, nil
	case valuesMsg:
		for _, k := range msg.asked {
			delete(m.values, k)
		}
		for k, v := range msg.values {
			m.values[k] = v
		}
		m.readingValues = false
		m.refreshRows()
		return m, nil
	case historyMsg:
		if msg.key == m.selected && msg.err == nil {
			m.ring(msg.key).Seed(msg.hist.Samples)
			m.seeded = &msg.hist
		}
		return m, nil
	case listTickMsg:
		return m, tea.Batch(m.loadObjects(), m.listTick())
	case valuesTickMsg:
		if m.readingValues {
			return m, m.valuesTick()
		}
		cmd := m.readValues()
		m.readingValues = cmd != nil
		return m, tea.Batch(cmd, m.valuesTick())
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
			m.mode, m.selected, m.detail, m.detailErr, m.seeded = modeList, ref{}, nil, nil, nil
			m.metrics, m.metricsErr, m.showMetrics = nil, nil, false
		} else if m.filter != "" {
			m.filter = ""
			m.refreshRows()
		}
	case key.Matches(msg, m.keys.Up):
		if m.mode == modeList {
			return m.moveCursor(-1)
		}
	case key.Matches(msg, m.keys.Down):
		if m.mode == modeList {
			return m.moveCursor(1)
		}
	case key.Matches(msg, m.keys.PageUp):
		if m.mode == modeList {
			return m.moveCursor(-m.listHeight())
		}
	case key.Matches(msg, m.keys.PageDown):
		if m.mode == modeList {
			return m.moveCursor(m.listHeight())
		}
	case key.Matches(msg, m.keys.Sort):
		if m.mode == modeList {
			m.sortCol = (m.sortCol + 1) % sortColumns
			m.keepCursorOn(m.refreshRows)
			m.status = "sorted by " + listHeader[m.sortCol] + m.sortArrow()
		}
	case key.Matches(msg, m.keys.Reverse):
		if m.mode == modeList {
			m.sortDesc = !m.sortDesc
			m.keepCursorOn(m.refreshRows)
			m.status = "sorted by " + listHeader[m.sortCol] + m.sortArrow()
		}
	case key.Matches(msg, m.keys.Chart):
		if m.mode == modeDetail {
			m.showChart = !m.showChart
		}
	case key.Matches(msg, m.keys.Enter):
		if o := m.current(); o != nil && m.mode == modeList {
			m.mode, m.selected, m.detail, m.detailErr, m.seeded = modeDetail, o.ref(), nil, nil, nil
			return m, tea.Batch(m.describe(m.selected), m.detailTick(m.selected), m.readHistory(m.selected))
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
			m.filter, m.cursor, m.offset = m.input, 0, 0
			m.refreshRows()
			return m, m.readValues()
		case modeTransfer:
			if hpa := strings.TrimSpace(m.input); hpa != "" {
				m.confirm.hpa = hpa
				m.mode = modeConfirm
			}
			return m, nil
		}
		m.namespace, m.cursor, m.offset = strings.TrimSpace(m.input), 0, 0
		m.setObjects(nil)
		m.refreshRows()
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

// setObjects replaces the objects and forgets the samples of those that are gone.
func (m *Model) setObjects(objs []Object) {
	m.objects, m.jobs = objs, 0
	m.index = make(map[ref]int, len(objs))
	for i := range objs {
		m.index[objs[i].ref()] = i
		if objs[i].ScaledJob != nil {
			m.jobs++
		}
	}
	for r := range m.rings {
		if _, ok := m.index[r]; !ok {
			delete(m.rings, r)
		}
	}
}

// refreshRows renders the list's rows again from the objects and keeps the cursor in bounds.
func (m *Model) refreshRows() {
	m.rows = m.buildRows()
	m.widths = columnWidths(m.rows)
	if n := len(m.rows); m.cursor >= n {
		m.cursor = max(n-1, 0)
	}
	m.scrollTo()
}

// keepCursorOn runs change (a new order of the rows) with the cursor staying on its object.
func (m *Model) keepCursorOn(change func()) {
	var at ref
	if m.cursor < len(m.rows) {
		at = m.rows[m.cursor].ref
	}
	change()
	for i := range m.rows {
		if m.rows[i].ref == at {
			m.cursor = i
			break
		}
	}
	m.scrollTo()
}

// moveCursor moves the cursor by delta rows; when the window moves, the values of the idle
// objects that came on screen are read.
func (m Model) moveCursor(delta int) (tea.Model, tea.Cmd) {
	m.cursor = max(0, min(m.cursor+delta, len(m.rows)-1))
	offset := m.offset
	m.scrollTo()
	if m.offset != offset && !m.readingValues {
		cmd := m.readValues()
		m.readingValues = cmd != nil
		return m, cmd
	}
	return m, nil
}

func (m Model) object(r ref) *Object {
	i, ok := m.index[r]
	if !ok {
		return nil
	}
	return &m.objects[i]
}

func (m Model) current() *Object {
	if m.cursor < 0 || m.cursor >= len(m.rows) {
		return nil
	}
	return m.object(m.rows[m.cursor].ref)
}

// target is the object a pause/resume applies to: the selected one in detail, else the cursor's.
func (m Model) target() *Object {
	if m.mode == modeDetail {
		return m.selectedObject()
	}
	return m.current()
}

// selectedObject is the object of the detail view, nil once it is gone.
func (m Model) selectedObject() *Object { return m.object(m.selected) }

// ring is r's samples, made when first needed.
func (m Model) ring(r ref) *samples.Ring {
	g, ok := m.rings[r]
	if !ok {
		g = samples.NewRing(ringLen)
		m.rings[r] = g
	}
	return g
}

// record appends each trigger's current value to its sparkline and a sample of every ScaledObject
// to its ring, as of at.
func (m *Model) record(at time.Time) {
	m.sampledAt = at
	for i := range m.objects {
		o := &m.objects[i]
		if o.ScaledJob != nil || o.HPA == nil {
			continue
		}
		s := m.sample(o, at)
		for _, t := range s.Triggers {
			if !t.HasValue {
				continue
			}
			k := o.ref().String() + "/" + t.Metric
			h := append(m.history[k], t.Value)
			if len(h) > historyLen {
				h = h[len(h)-historyLen:]
			}
			m.history[k] = h
		}
		m.ring(o.ref()).Add(s)
	}
}

// sample is what o reads as now: each trigger's value, target, activation threshold and activity,
// and its HPA's replicas.
func (m Model) sample(o *Object, at time.Time) samples.Sample {
	so, hpa := &o.ScaledObject, o.HPA
	s := samples.Sample{At: at, Current: hpa.Status.CurrentReplicas, Desired: hpa.Status.DesiredReplicas, HasReplicas: true}
	for _, spec := range hpa.Spec.Metrics {
		if spec.External == nil {
			continue
		}
		name := spec.External.Metric.Name
		t := samples.Trigger{Metric: name, Active: so.Status.TriggersActivity[name].IsActive}
		switch tv := spec.External.Target; {
		case tv.AverageValue != nil:
			t.Target = tv.AverageValue.AsApproximateFloat64()
		case tv.Value != nil:
			t.Target = tv.Value.AsApproximateFloat64()
		}
		t.Value, t.HasValue = m.valueOf(o, name)
		if idx, ok := triggerIndex(name); ok && idx < len(so.Spec.Triggers) {
			t.Activation = activation(so.Spec.Triggers[idx].Metadata)
		}
		s.Triggers = append(s.Triggers, t)
	}
	return s
}

// valueOf is a trigger's current value: the HPA's last reading while the target runs, else the
// external metrics API's answer that readValues got (an idle target's HPA reads nothing).
func (m Model) valueOf(o *Object, metric string) (float64, bool) {
	if o.HPA != nil {
		if v, ok := hpaValue(o.HPA, metric); ok {
			return v, true
		}
	}
	v, ok := m.values[o.ref().String()+"/"+metric]
	return v, ok
}

// hpaValue is an external metric's value as the HPA last read it, while the target has replicas
// (at zero the HPA reads no metric, and what it kept is not a current value). For an AverageValue
// metric the HPA keeps the value divided by its current replicas; multiplying back gives the
// metric's total (to the HPA's rounding), which is what the trigger's target, activation threshold
// and `kubectl keda top` speak of. This costs no request: the list reads only informers.
func hpaValue(hpa *autoscalingv2.HorizontalPodAutoscaler, metric string) (float64, bool) {
	if hpa.Status.CurrentReplicas == 0 {
		return 0, false
	}
	for _, cm := range hpa.Status.CurrentMetrics {
		if cm.Type != autoscalingv2.ExternalMetricSourceType || cm.External == nil || cm.External.Metric.Name != metric {
			continue
		}
		switch cur := cm.External.Current; {
		case cur.AverageValue != nil:
			return cur.AverageValue.AsApproximateFloat64() * float64(hpa.Status.CurrentReplicas), true
		case cur.Value != nil:
			return cur.Value.AsApproximateFloat64(), true
		}
	}
	return 0, false
}

// What the detail view says when a ScaledJob is asked for what only ScaledObjects have.
const (
	noExternalMetrics = "raw metrics are a ScaledObject's: a ScaledJob's trigger values are in its details"
	noHPA             = "a ScaledJob has no HPA to transfer"
)
