package report

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var colors = map[string]color.RGBA{
	Main:       {R: 0xc0, G: 0x30, B: 0x30, A: 0xff},
	Aggressive: {R: 0xe0, G: 0x90, B: 0x10, A: 0xff},
	Predictive: {R: 0x20, G: 0x70, B: 0xc0, A: 0xff},
	Reactive:   {R: 0x20, G: 0xa0, B: 0x60, A: 0xff},

	IKEv2Iked:      {R: 0x80, G: 0x30, B: 0xa0, A: 0xff},
	IKEv2Charon:    {R: 0x60, G: 0x60, B: 0x60, A: 0xff},
	IKEv2CT:        {R: 0x10, G: 0x90, B: 0xa0, A: 0xff},
	IKEv2Collision: {R: 0xa0, G: 0x60, B: 0x20, A: 0xff},
}

// Figure4 draws the paper's Figure 4 as a PNG: for each scenario that ran
// (its first successful run), the UDP sequence number of each datagram
// that reached the HA against its arrival time relative to the MN's
// attachment to the nAR (t = 0, dashed). The gap after t = 0 is the
// security set-up delay; its width is the table's delay.
func Figure4(w io.Writer, runs []Run) error {
	// one time axis for every panel: 1.5 s before the attachment to 1.5 s
	// after the slowest restoration, so the gaps compare at a glance
	xmax := 1.5
	for _, sc := range Scenarios {
		for _, r := range runs {
			if r.Scenario == sc && r.Error == "" && len(r.Records) > 0 {
				if r.Restored > 0 {
					xmax = max(xmax, float64(r.Restored-r.Attach)/1e9+1.5)
				}
				break
			}
		}
	}
	const xmin = -1.5
	var panels []*plot.Plot
	for _, sc := range Scenarios {
		var run *Run
		for i := range runs {
			if runs[i].Scenario == sc && runs[i].Error == "" && len(runs[i].Records) > 0 {
				run = &runs[i]
				break
			}
		}
		if run == nil {
			continue
		}
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s: set-up delay %.0f ms, %d UDP packets lost", Labels[sc], run.DelayMS, run.Lost)
		p.X.Label.Text = "arrival time at the HA relative to the attachment to the nAR (s)"
		p.Y.Label.Text = "UDP sequence number"
		pts := make(plotter.XYs, 0, len(run.Records))
		minY, maxY := 0.0, 0.0
		for _, r := range run.Records {
			x, y := float64(r.Recv-run.Attach)/1e9, float64(r.Seq)
			if x < xmin || x > xmax {
				continue
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
			if len(pts) == 1 || y < minY {
				minY = y
			}
			if len(pts) == 1 || y > maxY {
				maxY = y
			}
		}
		if len(pts) == 0 {
			continue
		}
		p.X.Min, p.X.Max = xmin, xmax
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		sc.GlyphStyle.Color = colors[run.Scenario]
		sc.GlyphStyle.Radius = vg.Points(1.5)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(sc)
		at := plotter.XYs{{X: 0, Y: minY}, {X: 0, Y: maxY}}
		l, err := plotter.NewLine(at)
		if err != nil {
			return err
		}
		l.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		l.Color = color.Gray{Y: 0x60}
		p.Add(l)
		if run.Restored > 0 {
			x := float64(run.Restored-run.Attach) / 1e9
			r, err := plotter.NewLine(plotter.XYs{{X: x, Y: minY}, {X: x, Y: maxY}})
			if err != nil {
				return err
			}
			r.Color = colors[run.Scenario]
			r.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
			p.Add(r)
		}
		p.Add(plotter.NewGrid())
		panels = append(panels, p)
	}
	if len(panels) == 0 {
		p := plot.New()
		p.Title.Text = "Figure 4: no scenario ran"
		panels = append(panels, p)
	}
	const width = 20 * vg.Centimeter
	height := vg.Length(len(panels)) * 7 * vg.Centimeter
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadY: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	grid := make([][]*plot.Plot, len(panels))
	for i, p := range panels {
		grid[i] = []*plot.Plot{p}
	}
	canvases := plot.Align(grid, tiles, dc)
	for i, p := range panels {
		p.Draw(canvases[i][0])
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}
