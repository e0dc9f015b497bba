package bridge

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/riftbridge/riftbridge/mapper"
)

var (
	blueSide = color.RGBA{R: 0x1f, G: 0x77, B: 0xd4, A: 0xff}
	redSide  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	diffLine = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
)

// goldCurve collects, per frame, what the replay sent for the team gold and
// gold diff series, so the plot shows exactly the emitted figures.
type goldCurve struct {
	minutes, blue, red, diff []float64
}

func (c *goldCurve) add(gameMillis int64, points []mapper.Point) {
	var blue, red, diff float64
	found := 0
	for _, p := range points {
		switch {
		case p.Name == mapper.MetricTeamGold && slices.Contains(p.Tags, "team:blue"):
			blue = p.Value
			found++
		case p.Name == mapper.MetricTeamGold && slices.Contains(p.Tags, "team:red"):
			red = p.Value
			found++
		case p.Name == mapper.MetricMatchGoldDiff:
			diff = p.Value
			found++
		}
	}
	if found < 3 {
		return // teams unknown for this frame (fragments without a roster)
	}
	c.minutes = append(c.minutes, float64(gameMillis)/60000)
	c.blue = append(c.blue, blue)
	c.red = append(c.red, red)
	c.diff = append(c.diff, diff)
}

// plot writes a PNG with the team gold curves on top and the gold diff below.
func (c *goldCurve) plot(path, title string) error {
	if len(c.minutes) == 0 {
		return &InputError{fmt.Errorf("plot %s: the replay has no team gold to draw (teams unknown: pass --match)", path)}
	}
	gold := plot.New()
	gold.Title.Text = title + ": team gold"
	gold.Y.Label.Text = "gold"
	gold.Legend.Top = true
	gold.Legend.Left = true
	gold.X.Tick.Marker = minuteTicks
	gold.Y.Tick.Marker = wholeTicks
	if err := addLine(gold, c.minutes, c.blue, "blue", blueSide); err != nil {
		return err
	}
	if err := addLine(gold, c.minutes, c.red, "red", redSide); err != nil {
		return err
	}

	diff := plot.New()
	diff.Title.Text = "gold diff (blue − red)"
	diff.X.Label.Text = "game minute"
	diff.Y.Label.Text = "gold"
	diff.X.Tick.Marker = minuteTicks
	diff.Y.Tick.Marker = wholeTicks
	diff.Add(plotter.NewGrid())
	zero := plotter.NewFunction(func(float64) float64 { return 0 })
	zero.Color = color.Gray{Y: 0xaa}
	diff.Add(zero)
	if err := addLine(diff, c.minutes, c.diff, "", diffLine); err != nil {
		return err
	}

	const width, height = 20 * vg.Centimeter, 16 * vg.Centimeter
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadX: vg.Millimeter, PadY: 4 * vg.Millimeter, PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 4 * vg.Millimeter}
	canvases := plot.Align([][]*plot.Plot{{gold}, {diff}}, tiles, dc)
	gold.Draw(canvases[0][0])
	diff.Draw(canvases[1][0])

	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}

// minuteTicks marks every fifth game minute.
var minuteTicks = plot.TickerFunc(func(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for m := math.Ceil(lo/5) * 5; m <= hi; m += 5 {
		ticks = append(ticks, plot.Tick{Value: m, Label: strconv.FormatFloat(m, 'f', 0, 64)})
	}
	return ticks
})

// wholeTicks are gonum's default ticks labelled without decimals: gold is
// counted in whole coins.
var wholeTicks = plot.TickerFunc(func(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', 0, 64)
		}
	}
	return ticks
})

func addLine(p *plot.Plot, xs, ys []float64, label string, c color.Color) error {
	pts := make(plotter.XYs, len(xs))
	for i := range xs {
		pts[i] = plotter.XY{X: xs[i], Y: ys[i]}
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("plot %s: %w", label, err)
	}
	line.Color = c
	line.Width = vg.Points(1.5)
	p.Add(line)
	if label != "" {
		p.Legend.Add(label, line)
	}
	return nil
}
