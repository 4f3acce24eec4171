package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// The chart's geometry, in SVG user units (pixels at 100%).
const (
	svgWidth   = 820
	svgHeight  = 480
	plotLeft   = 80
	plotTop    = 56
	plotRight  = 600 // the legend is to the right of the plot
	plotBottom = 410
)

// strategyStyle gives each strategy a color and, for the baselines, a dash,
// so that lines that lie on top of each other can still be told apart.
var strategyStyle = map[string]struct{ color, dash string }{
	"sequential":  {"#d62728", ""},
	"futures":     {"#1f77b4", ""},
	"callback":    {"#17becf", "6 3"},
	"map":         {"#ff7f0e", ""},
	"one-request": {"#2ca02c", ""},
	"coalesced":   {"#9467bd", ""},
	"visitor":     {"#bcbd22", "4 2"},
	"visitor-new": {"#bcbd22", ""},
	"on-device":   {"#e377c2", ""},
	"errgroup":    {"#7f7f7f", "2 3"},
	"conc":        {"#8c564b", "8 3 2 3"},
}

// writeSVG draws the median wall time against the mbox count for each
// strategy, both axes logarithmic, with a bar from the median to the 95th
// percentile at each point and the physical limit as a shaded line. It is a
// plain SVG document with no scripts or external references.
func writeSVG(w io.Writer, res *results) error {
	var counts []int
	var lo, hi time.Duration = math.MaxInt64, 0
	for _, c := range res.Cells {
		if !slices.Contains(counts, c.Mboxes) {
			counts = append(counts, c.Mboxes)
		}
		for _, d := range []time.Duration{c.P50, c.LimitP50} {
			if d > 0 { // a cell whose calls all failed has no limit
				lo = min(lo, d)
			}
		}
		hi = max(hi, c.P95)
	}
	if len(counts) == 0 {
		return fmt.Errorf("no results to draw")
	}
	slices.Sort(counts)
	lo = min(max(lo, time.Microsecond), max(hi, time.Microsecond))

	// Decades that hold every value, in milliseconds.
	yMin := math.Pow(10, math.Floor(math.Log10(msf(lo))))
	yMax := math.Pow(10, math.Ceil(math.Log10(msf(max(hi, lo+1)))))
	if yMax <= yMin {
		yMax = yMin * 10
	}
	xMin, xMax := float64(counts[0]), float64(counts[len(counts)-1])
	x := func(n int) float64 {
		if xMax == xMin {
			return (plotLeft + plotRight) / 2
		}
		return plotLeft + 20 + (plotRight-plotLeft-40)*math.Log(float64(n)/xMin)/math.Log(xMax/xMin)
	}
	y := func(d time.Duration) float64 {
		v := max(msf(d), yMin)
		return plotBottom - (plotBottom-plotTop)*math.Log(v/yMin)/math.Log(yMax/yMin)
	}

	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="13">`+"\n",
		svgWidth, svgHeight, svgWidth, svgHeight)
	p(`<title>Target calls: wall time vs mbox count</title>` + "\n")
	p(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	p(`<text x="%d" y="24" font-size="16" font-weight="bold">Wall time to get N mbox decisions (median, bar to p95; lower is better)</text>`+"\n", plotLeft)
	p(`<text x="%d" y="42" font-size="11" fill="#555">%s</text>`+"\n", plotLeft, esc(subtitle(res)))

	// Grid and y labels at 1, 2 and 5 of each decade.
	for d := yMin; d <= yMax*1.0001; d *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := d * m
			if v > yMax*1.0001 {
				break
			}
			yy := y(time.Duration(v * float64(time.Millisecond)))
			stroke := "#eeeeee"
			if m == 1 {
				stroke = "#cccccc"
			}
			p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`+"\n", plotLeft, yy, plotRight, yy, stroke)
			p(`<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle" fill="#333">%s</text>`+"\n", plotLeft-6, yy, axisMS(v))
		}
	}
	for _, n := range counts {
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eeeeee"/>`+"\n", x(n), plotTop, x(n), plotBottom)
		p(`<text x="%.1f" y="%d" text-anchor="middle" fill="#333">%d</text>`+"\n", x(n), plotBottom+18, n)
	}
	p(`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", plotLeft, plotTop, plotRight-plotLeft, plotBottom-plotTop)
	p(`<text x="%d" y="%d" text-anchor="middle">mboxes per page (log scale)</text>`+"\n", (plotLeft+plotRight)/2, plotBottom+42)
	p(`<text transform="translate(22 %d) rotate(-90)" text-anchor="middle">wall time (log scale)</text>`+"\n", (plotTop+plotBottom)/2)

	// The physical limit of N parallel calls: the slowest of their round
	// trips, from the futures strategy, which makes exactly those calls.
	var limit []string
	for _, n := range counts {
		for _, c := range res.Cells {
			if c.Mboxes == n && c.Strategy == "futures" && c.LimitP50 > 0 {
				limit = append(limit, fmt.Sprintf("%.1f,%.1f", x(n), y(c.LimitP50)))
			}
		}
	}
	legendY := plotTop + 8
	if len(limit) > 0 {
		p(`<polyline points="%s" fill="none" stroke="#000000" stroke-opacity="0.25" stroke-width="8" stroke-linecap="round"/>`+"\n", strings.Join(limit, " "))
		p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#000000" stroke-opacity="0.25" stroke-width="8" stroke-linecap="round"/>`+"\n", plotRight+20, legendY, plotRight+44, legendY)
		p(`<text x="%d" y="%d" dominant-baseline="middle">physical limit</text>`+"\n", plotRight+52, legendY)
		p(`<text x="%d" y="%d" font-size="10" fill="#555" dominant-baseline="middle">slowest of N round trips</text>`+"\n", plotRight+52, legendY+14)
		legendY += 38
	}

	strats := res.Config.Strategies
	for si, name := range strats {
		// Points of different strategies at one count are spread by a few
		// pixels so that their p95 bars do not hide each other.
		nudge := (float64(si) - float64(len(strats)-1)/2) * 3
		st := strategyStyle[name]
		if st.color == "" {
			st.color = "#000000"
		}
		var pts []string
		for _, n := range counts {
			for _, c := range res.Cells {
				if c.Mboxes != n || c.Strategy != name || c.Reps == 0 {
					continue
				}
				px, py := x(n)+nudge, y(c.P50)
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
				p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"/>`+"\n", px, py, px, y(c.P95), st.color)
				p(`<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s, %d mboxes: p50 %s, p95 %s</title></circle>`+"\n",
					px, py, st.color, esc(name), n, ms(c.P50), ms(c.P95))
			}
		}
		if len(pts) == 0 {
			continue
		}
		dash := ""
		if st.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, st.dash)
		}
		p(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), st.color, dash)
		p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", plotRight+20, legendY, plotRight+44, legendY, st.color, dash)
		p(`<circle cx="%d" cy="%d" r="3.5" fill="%s"/>`+"\n", plotRight+32, legendY, st.color)
		p(`<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", plotRight+52, legendY, esc(name))
		legendY += 24
	}
	p("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

func subtitle(res *results) string {
	m := res.Machine
	s := fmt.Sprintf("%s; %d CPUs, %s", res.Edge, m.CPUs, m.Go)
	if res.Config.Client == "" {
		s += "; latency " + describeLatency(res.Config.Latency)
	}
	return s
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// axisMS labels a y grid line given in milliseconds.
func axisMS(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%gs", v/1000)
	case v >= 1:
		return fmt.Sprintf("%gms", v)
	default:
		return fmt.Sprintf("%gµs", v*1000)
	}
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
