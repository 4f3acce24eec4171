package main

import (
	"fmt"
	"io"
	"strings"
)

// progress draws a one-line progress bar, redrawn in place with \r. A
// progress made with show false does nothing, so the output of a run into a
// file or a pipe holds only the tables.
type progress struct {
	w           io.Writer
	show        bool
	done, total int
	label       string
	drawn       bool
}

const barWidth = 30

func newProgress(w io.Writer, show bool) *progress {
	return &progress{w: w, show: show}
}

func (p *progress) start(total int) {
	p.done, p.total = 0, total
	p.draw()
}

// at names the work under way, shown after the bar.
func (p *progress) at(label string) {
	p.label = label
	p.draw()
}

// step counts one unit of work done.
func (p *progress) step() {
	p.done = min(p.done+1, p.total)
	p.draw()
}

// skip counts n units that will not be done as done.
func (p *progress) skip(n int) {
	p.done = min(p.done+n, p.total)
	p.draw()
}

// clear erases the bar, so that what is printed next starts on a clean line.
func (p *progress) clear() {
	if p.show && p.drawn {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", barWidth+50))
		p.drawn = false
	}
}

func (p *progress) draw() {
	if !p.show || p.total <= 0 {
		return
	}
	filled := barWidth * p.done / p.total
	label := p.label
	if len(label) > 30 {
		label = label[:30]
	}
	fmt.Fprintf(p.w, "\r[%s%s] %3d%% %-30s", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), 100*p.done/p.total, label)
	p.drawn = true
}
