package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every binding of the TUI; the help view renders from it, so what is shown is what
// works. The keys are k9s users' habits.
type KeyMap struct {
	Up        key.Binding
	Down      key.Binding
	PageUp    key.Binding
	PageDown  key.Binding
	Sort      key.Binding
	Reverse   key.Binding
	Chart     key.Binding
	Enter     key.Binding
	Back      key.Binding
	Filter    key.Binding
	Namespace key.Binding
	Pause     key.Binding
	Resume    key.Binding
	Metrics   key.Binding
	Transfer  key.Binding
	Help      key.Binding
	Quit      key.Binding
	Confirm   key.Binding
	Cancel    key.Binding
}

// DefaultKeyMap is the TUI's keymap.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:        key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("k/↑", "up")),
		Down:      key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/↓", "down")),
		PageUp:    key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Sort:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Reverse:   key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "reverse sort")),
		Chart:     key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "chart")),
		Enter:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Namespace: key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "namespace")),
		Pause:     key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause")),
		Resume:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "resume")),
		Metrics:   key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "raw metrics")),
		Transfer:  key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "transfer HPA")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Confirm:   key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "confirm")),
		Cancel:    key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "cancel")),
	}
}

// ShortHelp is the one-line help of the list and detail views.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Enter, k.Back, k.Filter, k.Sort, k.Reverse, k.Help, k.Quit, k.Namespace, k.Pause, k.Resume}
}

// FullHelp is the help screen.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Enter, k.Back}, {k.Filter, k.Sort, k.Reverse, k.Namespace, k.Chart}, {k.Pause, k.Resume, k.Transfer, k.Metrics, k.Confirm, k.Cancel}, {k.Help, k.Quit}}
}
