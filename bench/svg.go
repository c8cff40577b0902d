package main

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strconv"
)

// Series is one named line or one colour of bars; NaN values are not drawn (not measured).
type Series struct {
	Name   string
	Values []float64
}

// palette: ours first, KEDA second, then more for extra series.
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"}

const (
	chartW, chartH                 = 640, 360
	padL, padR, padT, padB         = 70, 20, 40, 60
	plotW, plotH                   = chartW - padL - padR, chartH - padT - padB
	fontAttr                       = `font-family="sans-serif"`
	yTicks                         = 5
	legendX, legendY, legendSwatch = padL + 10, padT + 8, 10
	barGroupGap                    = 0.2
)

// BarChart is a grouped bar chart: one group per category, one bar per series.
type BarChart struct {
	Title, YLabel string
	Categories    []string
	Series        []Series
}

// LineChart draws each series against X; LogX spaces X logarithmically (X values <= 0 sit at the left edge).
type LineChart struct {
	Title, XLabel, YLabel string
	X                     []float64
	LogX                  bool
	Series                []Series
}

// fmtNum formats a number for labels: at most 4 significant digits, no exponent for usual sizes.
func fmtNum(v float64) string {
	if v == 0 {
		return "0"
	}
	if math.Abs(v) >= 1e6 || math.Abs(v) < 1e-3 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// niceMax rounds v up to 1, 2, 2.5 or 5 times a power of ten, so ticks are round numbers.
func niceMax(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

func maxOf(series []Series) float64 {
	m := 0.0
	for _, s := range series {
		for _, v := range s.Values {
			if !math.IsNaN(v) && v > m {
				m = v
			}
		}
	}
	return m
}

type svgBuf struct{ bytes.Buffer }

func (b *svgBuf) f(format string, args ...any) { fmt.Fprintf(&b.Buffer, format, args...) }

func (b *svgBuf) header(title string) {
	b.f(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n", chartW, chartH, chartW, chartH)
	b.f(`<rect width="%d" height="%d" fill="white"/>`+"\n", chartW, chartH)
	b.f(`<text x="%d" y="22" %s font-size="15" text-anchor="middle" font-weight="bold">%s</text>`+"\n", chartW/2, fontAttr, html.EscapeString(title))
}

// yAxis draws the y axis with ticks from 0 to top and returns the y pixel of a value.
func (b *svgBuf) yAxis(label string, top float64) func(float64) float64 {
	y := func(v float64) float64 { return float64(padT+plotH) - v/top*float64(plotH) }
	for i := 0; i <= yTicks; i++ {
		v := top * float64(i) / yTicks
		py := y(v)
		b.f(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", padL, py, padL+plotW, py)
		b.f(`<text x="%d" y="%.1f" %s font-size="12" text-anchor="end">%s</text>`+"\n", padL-6, py+4, fontAttr, fmtNum(v))
	}
	b.f(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", padL, padT, padL, padT+plotH)
	b.f(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", padL, padT+plotH, padL+plotW, padT+plotH)
	b.f(`<text x="16" y="%d" %s font-size="12" text-anchor="middle" transform="rotate(-90 16 %d)">%s</text>`+"\n", padT+plotH/2, fontAttr, padT+plotH/2, html.EscapeString(label))
	return y
}

func (b *svgBuf) legend(series []Series) {
	for i, s := range series {
		y := legendY + i*16
		b.f(`<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", legendX, y, legendSwatch, legendSwatch, palette[i%len(palette)])
		b.f(`<text x="%d" y="%d" %s font-size="12">%s</text>`+"\n", legendX+legendSwatch+4, y+9, fontAttr, html.EscapeString(s.Name))
	}
}

// SVG renders the chart.
func (c BarChart) SVG() []byte {
	var b svgBuf
	b.header(c.Title)
	top := niceMax(maxOf(c.Series))
	y := b.yAxis(c.YLabel, top)
	n := len(c.Categories)
	if n > 0 && len(c.Series) > 0 {
		group := float64(plotW) / float64(n)
		barW := group * (1 - barGroupGap) / float64(len(c.Series))
		for i, cat := range c.Categories {
			gx := float64(padL) + group*float64(i) + group*barGroupGap/2
			for j, s := range c.Series {
				if i >= len(s.Values) || math.IsNaN(s.Values[i]) {
					continue
				}
				v := s.Values[i]
				x := gx + barW*float64(j)
				b.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x, y(v), barW, y(0)-y(v), palette[j%len(palette)])
				b.f(`<text x="%.1f" y="%.1f" %s font-size="10" text-anchor="middle">%s</text>`+"\n", x+barW/2, y(v)-3, fontAttr, fmtNum(round3(v)))
			}
			b.f(`<text x="%.1f" y="%d" %s font-size="12" text-anchor="middle">%s</text>`+"\n", float64(padL)+group*(float64(i)+0.5), padT+plotH+18, fontAttr, html.EscapeString(cat))
		}
	}
	b.legend(c.Series)
	b.f("</svg>\n")
	return b.Bytes()
}

// SVG renders the chart.
func (c LineChart) SVG() []byte {
	var b svgBuf
	b.header(c.Title)
	top := niceMax(maxOf(c.Series))
	y := b.yAxis(c.YLabel, top)
	xs := make([]float64, len(c.X))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, v := range c.X {
		if c.LogX {
			v = math.Log10(math.Max(v, 1))
		}
		xs[i] = v
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi <= lo {
		hi = lo + 1
	}
	x := func(i int) float64 { return float64(padL) + 10 + (xs[i]-lo)/(hi-lo)*float64(plotW-20) }
	for i, v := range c.X {
		b.f(`<text x="%.1f" y="%d" %s font-size="12" text-anchor="middle">%s</text>`+"\n", x(i), padT+plotH+18, fontAttr, fmtNum(v))
	}
	b.f(`<text x="%d" y="%d" %s font-size="12" text-anchor="middle">%s</text>`+"\n", padL+plotW/2, padT+plotH+40, fontAttr, html.EscapeString(c.XLabel))
	for j, s := range c.Series {
		color := palette[j%len(palette)]
		var pts bytes.Buffer
		for i, v := range s.Values {
			if i >= len(xs) || math.IsNaN(v) {
				continue
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(i), y(v))
			b.f(`<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", x(i), y(v), color)
			b.f(`<text x="%.1f" y="%.1f" %s font-size="10" text-anchor="middle">%s</text>`+"\n", x(i), y(v)-6, fontAttr, fmtNum(round3(v)))
		}
		if pts.Len() > 0 {
			b.f(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", bytes.TrimSpace(pts.Bytes()), color)
		}
	}
	b.legend(c.Series)
	b.f("</svg>\n")
	return b.Bytes()
}

// round3 keeps 3 significant digits for value labels.
func round3(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	p := math.Pow(10, 2-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}
