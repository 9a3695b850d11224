//! The dashboard's inline chart as numbers: cumulative holders by day, the target lines under
//! both readings, milestones (dotted, with both readings as dots) and the deadline (red). Days
//! count from the chart's start. `templates/campaign/parts.html` (`chart`) draws it.

/// Width, height, left and bottom margins of the drawing (SVG user units).
const W: f64 = 640.0;
const H: f64 = 260.0;
const L: f64 = 48.0;
const B: f64 = 28.0;

/// Coordinates are written with one decimal.
fn c(v: f64) -> String {
    format!("{v:.1}")
}

/// A dashed target line and its label.
pub struct Line {
    pub y: String,
    pub label_y: String,
    pub color: &'static str,
    pub label: &'static str,
    pub value: u64,
}

/// A milestone: its day (`x`) and both readings as dots.
pub struct Mark {
    pub x: String,
    pub level_y: String,
    pub increment_y: String,
}

pub struct Chart {
    pub label: &'static str,
    pub view_box: String,
    pub width: f64,
    pub left: f64,
    pub label_x: f64,
    pub base_y: f64,
    pub bottom_label_y: f64,
    pub line_label_x: f64,
    /// The top of the y axis: its value and where it is written.
    pub top: u64,
    pub top_y: String,
    pub lines: Vec<Line>,
    pub marks: Vec<Mark>,
    pub deadline_x: String,
    pub start: String,
    pub deadline: String,
    /// The holders' polyline.
    pub points: String,
}

/// A target line: its value, label and colour.
pub type Target = (u64, &'static str, &'static str);

/// The chart of `points` (day, holders) over `span` days, with target `lines`, milestone `marks`
/// (day, level, increment) and the axis' (start, deadline day, deadline).
pub fn chart(
    label: &'static str,
    points: &[(i64, u64)],
    span: i64,
    lines: &[Target],
    marks: &[(i64, u64, u64)],
    (start, deadline_day, deadline): (&str, i64, &str),
) -> Chart {
    let top =
        lines.iter().map(|l| l.0).chain(points.iter().map(|p| p.1)).chain(marks.iter().map(|m| m.2)).max().unwrap_or(1);
    let ymax = (top as f64 * 1.1).max(10.0);
    let span = span.max(1) as f64;
    let x = |d: i64| L + (W - L - 8.0) * d as f64 / span;
    let y = |n: u64| H - B - (H - B - 8.0) * n as f64 / ymax;
    Chart {
        label,
        view_box: format!("0 0 {W} {H}"),
        width: W,
        left: L,
        label_x: L - 4.0,
        base_y: H - B,
        bottom_label_y: H - 10.0,
        line_label_x: W - 4.0,
        top: ymax as u64,
        top_y: c(y(ymax as u64) + 10.0),
        lines: lines
            .iter()
            .map(|&(value, label, color)| Line { y: c(y(value)), label_y: c(y(value) - 3.0), color, label, value })
            .collect(),
        marks: marks
            .iter()
            .map(|&(d, level, increment)| Mark { x: c(x(d)), level_y: c(y(level)), increment_y: c(y(increment)) })
            .collect(),
        deadline_x: c(x(deadline_day)),
        start: start.to_owned(),
        deadline: deadline.to_owned(),
        points: points.iter().map(|&(d, n)| format!("{},{}", c(x(d)), c(y(n)))).collect::<Vec<_>>().join(" "),
    }
}
