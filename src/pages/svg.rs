//! Line plots as inline SVG (no JavaScript): axes with round-number ticks, one polyline
//! per series.

use super::html::escape;
use std::fmt::Write as _;

/// One line of a plot.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend name (a target).
    pub name: String,
    /// Stroke colour.
    pub color: &'static str,
    /// `(x, y)` points, x ascending.
    pub points: Vec<(f64, f64)>,
}

const PALETTE: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// The `i`th colour of the palette (it repeats after ten).
pub fn color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// The smallest 1, 2 or 5 times a power of ten at or above `v` (1 for `v <= 0`).
fn nice_max(v: f64) -> f64 {
    if v.is_nan() || v <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&c| c >= v * (1.0 - 1e-12))
        .unwrap_or(10.0 * mag)
}

/// A tick label: integers, with `k`/`M` above ten thousand.
fn label(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if v >= 1e4 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

const MARGIN_LEFT: f64 = 52.0;
const MARGIN_RIGHT: f64 = 10.0;
const MARGIN_TOP: f64 = 10.0;
const MARGIN_BOTTOM: f64 = 34.0;
const TICKS: usize = 4;

/// A plot of `series` against time in seconds, `width` x `height` pixels, with `id` and
/// the `data-metric` attribute set to `metric`.
pub fn line_plot(
    id: &str,
    metric: &str,
    title: &str,
    series: &[Series],
    width: u32,
    height: u32,
) -> String {
    let (w, h) = (f64::from(width), f64::from(height));
    let all = || series.iter().flat_map(|s| s.points.iter());
    let x_max = nice_max(all().map(|p| p.0).fold(0.0, f64::max));
    let y_max = nice_max(all().map(|p| p.1).fold(0.0, f64::max));
    let (plot_w, plot_h) = (
        w - MARGIN_LEFT - MARGIN_RIGHT,
        h - MARGIN_TOP - MARGIN_BOTTOM,
    );
    let x = |v: f64| MARGIN_LEFT + v / x_max * plot_w;
    let y = |v: f64| MARGIN_TOP + plot_h - v / y_max * plot_h;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg class=\"plot\" id=\"{}\" data-metric=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-label=\"{}\"><title>{}</title>",
        escape(id),
        escape(metric),
        escape(title),
        escape(title)
    );
    for i in 0..=TICKS {
        let f = i as f64 / TICKS as f64;
        let (yv, xv) = (f * y_max, f * x_max);
        let _ = writeln!(
            out,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#e4e4e4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x(0.0),
            y(yv),
            x(x_max),
            y(yv),
            x(0.0) - 4.0,
            y(yv) + 3.5,
            label(yv),
            x(xv),
            y(0.0) + 13.0,
            label(xv),
        );
    }
    let _ = writeln!(
        out,
        "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"#444\"/>\
         <line x1=\"{0:.1}\" y1=\"{2:.1}\" x2=\"{3:.1}\" y2=\"{2:.1}\" stroke=\"#444\"/>\
         <text x=\"{4:.1}\" y=\"{5:.1}\" font-size=\"10\" text-anchor=\"middle\">seconds</text>",
        x(0.0),
        y(y_max),
        y(0.0),
        x(x_max),
        MARGIN_LEFT + plot_w / 2.0,
        h - 4.0
    );
    for s in series {
        let points: Vec<String> = s
            .points
            .iter()
            .map(|&(px, py)| format!("{:.1},{:.1}", x(px), y(py)))
            .collect();
        let _ = writeln!(
            out,
            "<polyline class=\"series\" data-target=\"{}\" fill=\"none\" stroke=\"{}\" \
             stroke-width=\"1.8\" points=\"{}\"><title>{}</title></polyline>",
            escape(&s.name),
            s.color,
            points.join(" "),
            escape(&s.name)
        );
        if let [(px, py)] = s.points[..] {
            let _ = writeln!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{}\"/>",
                x(px),
                y(py),
                s.color
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_round_up_to_nice_numbers() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(20.0), 20.0);
        assert_eq!(nice_max(2001.0), 5000.0);
        assert_eq!(label(15000.0), "15k");
        assert_eq!(label(2500.0), "2500");
        assert_eq!(label(1.25e6), "1.2M");
    }

    #[test]
    fn points_map_into_the_plot_area() {
        let s = Series {
            name: "a<b".into(),
            color: color(0),
            points: vec![(0.0, 0.0), (10.0, 50.0)],
        };
        let svg = line_plot("p", "cov", "cov", &[s], 300, 200);
        // x: 0 -> left margin, 10 (= x max) -> right edge; y: 0 -> bottom, 50 (= y max) -> top.
        assert!(svg.contains("points=\"52.0,166.0 290.0,10.0\""), "{svg}");
        assert!(svg.contains("data-target=\"a&lt;b\""));
        assert!(!svg.contains("<script"));
    }
}
