package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// implStyle gives every implementation the same colour in every panel,
// coord a solid line and the anchors dashed ones.
func implStyle(impl string) (color.Color, []vg.Length) {
	switch impl {
	case "coord":
		return color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, nil
	case "sync":
		return color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, []vg.Length{vg.Points(4), vg.Points(2)}
	case "xsync-weighted":
		return color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, []vg.Length{vg.Points(4), vg.Points(2)}
	case "close-chan", "chan":
		return color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, []vg.Length{vg.Points(4), vg.Points(2)}
	default:
		return color.Gray{Y: 0x60}, []vg.Length{vg.Points(2), vg.Points(2)}
	}
}

// WriteChart draws the scaling curves in format ("svg" or "png"): one
// panel per family, both axes logarithmic, coord solid and its anchors
// dashed.
func WriteChart(w io.Writer, curves []Curve, format string) error {
	var fams []Family
	byFam := map[string][]Curve{}
	for _, c := range curves {
		if _, ok := byFam[c.Family.Name]; !ok {
			fams = append(fams, c.Family)
		}
		byFam[c.Family.Name] = append(byFam[c.Family.Name], c)
	}
	if len(fams) == 0 {
		return fmt.Errorf("no scaling curves to draw")
	}
	row := make([]*plot.Plot, 0, len(fams))
	for _, f := range fams {
		p := plot.New()
		p.Title.Text = f.Name
		p.X.Label.Text = "waiting goroutines"
		p.Y.Label.Text = f.Metric
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, logTicks125{}
		p.Legend.Top = true
		p.Legend.Left = true
		p.Legend.Padding = vg.Millimeter
		p.Add(plotter.NewGrid())
		for _, c := range byFam[f.Name] {
			xys := make(plotter.XYs, 0, len(c.Points))
			for _, pt := range c.Points {
				if pt.Ns > 0 {
					xys = append(xys, plotter.XY{X: float64(pt.Waiters), Y: pt.Ns})
				}
			}
			if len(xys) == 0 {
				continue
			}
			l, s, err := plotter.NewLinePoints(xys)
			if err != nil {
				return err
			}
			col, dashes := implStyle(c.Impl)
			l.Color, l.Dashes, l.Width = col, dashes, vg.Points(1.5)
			s.Color, s.Shape = col, draw.CircleGlyph{}
			p.Add(l, s)
			p.Legend.Add(c.Impl, l, s)
		}
		// Headroom above the curves for the legend (the axis is
		// logarithmic: x3 is about half a decade).
		p.Y.Max *= 3
		p.Y.Min /= 1.5
		row = append(row, p)
	}
	const panel = 9 * vg.Centimeter
	width, height := panel*vg.Length(len(row)), 8*vg.Centimeter
	var img interface {
		vg.CanvasSizer
		io.WriterTo
	}
	switch format {
	case "svg":
		img = vgsvg.New(width, height)
	case "png":
		img = vgimg.PngCanvas{Canvas: vgimg.New(width, height)}
	default:
		return fmt.Errorf("unknown chart format %q (want svg or png)", format)
	}
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(row), PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{row}, tiles, dc)
	for j, p := range row {
		p.Draw(canvases[0][j])
	}
	_, err := img.WriteTo(w)
	return err
}

// logTicks125 marks a logarithmic axis at 1, 2, ..., 9 times each power of
// ten, labelling 1, 2 and 5: with curves that span less than a decade,
// plot.LogTicks would label a single tick.
type logTicks125 struct{}

func (logTicks125) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max >= min) {
		return nil
	}
	var ts []plot.Tick
	for e := math.Floor(math.Log10(min)); math.Pow(10, e) <= max; e++ {
		base := math.Pow(10, e)
		for m := 1.0; m <= 9; m++ {
			v := m * base
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = shortNumber(v)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// shortNumber formats a tick value: 200, 1k, 20k, 1M.
func shortNumber(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', -1, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', -1, 64) + "k"
	default:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
}
