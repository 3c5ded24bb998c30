//! The geometry rules, once for every entrance. A geometry's numbers are checked
//! where they sit; [`Places`] says what that place is called in the caller's input
//! (`value.start.x` for typed objects, `bbox.top` for dicts, `boxes[17][0]` for
//! columns), so the same rule gives each entrance its own path and the same message.

use crate::issues::{Issues, Problem};
use crate::model::{Corners, Pt};
use crate::rules::values::{
    bbox_overflow_problem, coordinate_problem, negative_problem, point_count_problem,
};

/// A place inside one geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Number `k` (0..4) of a box as given.
    BoxValue(usize),
    /// The box as a whole.
    Box,
    /// Coordinate `axis` (0 = x, 1 = y) of a point geometry.
    Point(usize),
    /// Coordinate `axis` of vertex `j` of a line or polygon.
    Vertex(usize, usize),
    /// The vertices of a line or polygon, as a list.
    Vertices,
}

/// Names the places of one geometry in the caller's input form.
pub trait Places {
    /// Appends the path of `field` to `issues`' path; returns how many segments.
    fn enter(&self, field: Field, issues: &mut Issues) -> usize;

    /// Records `problem` at `field`.
    #[cold]
    fn report(&self, field: Field, problem: Problem, issues: &mut Issues) {
        let depth = self.enter(field, issues);
        issues.report_problem(problem);
        for _ in 0..depth {
            issues.pop();
        }
    }
}

/// How a box's four numbers are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoxForm {
    /// `x1, y1, x2, y2`: two opposite corners (`Rectangle(start, end)`, `xyxy`).
    Corners,
    /// `x, y, w, h`: top-left corner, width and height.
    Xywh,
    /// `cx, cy, w, h`: centre, width and height.
    Cxcywh,
    /// `top, left, height, width`: the NDJSON form, written as given.
    Tlhw,
}

impl BoxForm {
    /// The numbers that are extents, which must not be negative.
    fn extents(self) -> &'static [(usize, &'static str)] {
        match self {
            BoxForm::Corners => &[],
            BoxForm::Xywh | BoxForm::Cxcywh => &[(2, "width"), (3, "height")],
            BoxForm::Tlhw => &[(2, "height"), (3, "width")],
        }
    }
}

/// A box: every number finite, extents not negative, and the corners it means (in
/// pixels; `None` when they cannot be known, e.g. its image is unknown) finite too.
/// Returns whether it is good.
#[inline]
pub fn check_box(
    values: [f64; 4],
    form: BoxForm,
    corners: impl FnOnce() -> Option<Corners>,
    places: &impl Places,
    issues: &mut Issues,
) -> bool {
    let mut ok = true;
    for (k, v) in values.into_iter().enumerate() {
        if let Some(problem) = coordinate_problem(v) {
            places.report(Field::BoxValue(k), problem, issues);
            ok = false;
        }
    }
    for &(k, what) in form.extents() {
        if let Some(problem) = negative_problem(values[k], what) {
            places.report(Field::BoxValue(k), problem, issues);
            ok = false;
        }
    }
    // Finite numbers can still mean corners that overflow (huge values, or scaling).
    if ok {
        if let Some(problem) = corners().as_ref().and_then(bbox_overflow_problem) {
            places.report(Field::Box, problem, issues);
            ok = false;
        }
    }
    ok
}

/// A point geometry: both coordinates finite.
#[inline]
pub fn check_point(p: Pt, places: &impl Places, issues: &mut Issues) -> bool {
    let mut ok = true;
    for (axis, v) in [p.x, p.y].into_iter().enumerate() {
        if let Some(problem) = coordinate_problem(v) {
            places.report(Field::Point(axis), problem, issues);
            ok = false;
        }
    }
    ok
}

/// A line (`min` 2) or polygon (`min` 3): enough vertices, each finite.
#[inline]
pub fn check_vertices(
    points: &[Pt],
    min: usize,
    what: &str,
    places: &impl Places,
    issues: &mut Issues,
) -> bool {
    let mut ok = true;
    if let Some(problem) = point_count_problem(points.len(), min, what) {
        places.report(Field::Vertices, problem, issues);
        ok = false;
    }
    for (j, p) in points.iter().enumerate() {
        for (axis, v) in [p.x, p.y].into_iter().enumerate() {
            if let Some(problem) = coordinate_problem(v) {
                places.report(Field::Vertex(j, axis), problem, issues);
                ok = false;
            }
        }
    }
    ok
}

/// `x` or `y`.
pub fn axis_key(axis: usize) -> &'static str {
    if axis == 0 {
        "x"
    } else {
        "y"
    }
}
