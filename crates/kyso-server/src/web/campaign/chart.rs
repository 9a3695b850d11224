//! The dashboard's inline chart as numbers: cumulative holders by day, the target lines under
//! both readings, milestones (dotted, with both readings as dots) and the deadline (red). Days
//! count from the chart's start. `templates/campaign/parts.html` (`chart`) draws it.

/// Width, height, left and bottom margins of the drawing (SVG user units). The width is a phone's:
/// on a 360-px screen one unit is about one pixel, so the 13-unit labels stay readable there
/// (the stylesheet caps the drawing's width on a desktop).
const W: f64 = 360.0;
const H: f64 = 220.0;
const L: f64 = 44.0;
const B: f64 = 26.0;
/// Half the width of a `yyyy-mm-dd` label at the template's font size, to keep it inside.
const HALF_DATE: f64 = 38.0;

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
    /// Where the deadline's label is written and how it is anchored (`middle`, or `end` near the
    /// right edge, so that it is never cut off).
    pub deadline_label_x: String,
    pub deadline_anchor: &'static str,
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
        deadline_label_x: c(if x(deadline_day) + HALF_DATE > W {
            W - 1.0
        } else {
            x(deadline_day).max(L + 3.0 * HALF_DATE + 6.0)
        }),
        deadline_anchor: if x(deadline_day) + HALF_DATE > W { "end" } else { "middle" },
        start: start.to_owned(),
        deadline: deadline.to_owned(),
        points: points.iter().map(|&(d, n)| format!("{},{}", c(x(d)), c(y(n)))).collect::<Vec<_>>().join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_label_stays_inside_the_drawing() {
        let c = chart("t", &[(0, 1), (30, 5)], 30, &[(10, "Mức", "#000")], &[], ("2025-12-31", 30, "2026-12-31"));
        assert_eq!(c.deadline_anchor, "end", "at the right edge the label ends there");
        assert!(c.deadline_label_x.parse::<f64>().unwrap() <= W);
        let c = chart("t", &[(0, 1)], 60, &[(10, "Mức", "#000")], &[], ("2025-12-31", 30, "2026-06-30"));
        assert_eq!(c.deadline_anchor, "middle");
        assert_eq!(c.view_box, "0 0 360 220", "a phone-wide drawing");
    }
}
