//! Explaining a failed resolution in plain words: pubgrub's derivation tree
//! rendered with package names as users write them ("your requirements",
//! `flask >=2`, "any version") instead of the solver's internal terms.

use pubgrub::{Derived, External, Map, ReportFormatter, Term};
use pyward_dist::Version;
use version_ranges::Ranges;

use crate::provider::{Pkg, Unusable};

#[derive(Debug, Default)]
pub struct PlainFormatter;

/// `flask >=2.0, <3.0`, `flask ==1.0`, or `flask` for any version.
fn with_range(p: &Pkg, r: &Ranges<Version>) -> String {
    if r == &Ranges::full() {
        p.to_string()
    } else if let Some(v) = r.as_singleton() {
        format!("{p} =={v}")
    } else {
        format!("{p} {r}")
    }
}

type Ext = External<Pkg, Ranges<Version>, Unusable>;
type Der = Derived<Pkg, Ranges<Version>, Unusable>;
type Terms = Map<Pkg, Term<Ranges<Version>>>;

impl ReportFormatter<Pkg, Ranges<Version>, Unusable> for PlainFormatter {
    type Output = String;

    fn format_external(&self, external: &Ext) -> String {
        match external {
            External::NotRoot(p, v) => format!("pyward is solving for {p} {v}"),
            External::NoVersions(p, r) => {
                if r == &Ranges::full() {
                    format!("no usable version of {p} exists")
                } else {
                    format!("no usable version of {} exists", with_range(p, r))
                }
            }
            External::Custom(p, r, reason) => {
                format!("{} cannot be used because {reason}", with_range(p, r))
            }
            External::FromDependencyOf(p, r, dep, dr) => match p {
                Pkg::Root => format!("you asked for {}", with_range(dep, dr)),
                _ => format!("{} depends on {}", with_range(p, r), with_range(dep, dr)),
            },
        }
    }

    fn format_terms(&self, terms: &Terms) -> String {
        let v: Vec<_> = terms.iter().collect();
        match v.as_slice() {
            [] => "no set of versions works".into(),
            [(Pkg::Root, Term::Positive(_))] => "your requirements cannot all be met".into(),
            [(p, Term::Positive(r))] => format!("{} cannot be used", with_range(p, r)),
            [(p, Term::Negative(r))] => format!("{} is needed", with_range(p, r)),
            [(p1, Term::Positive(r1)), (p2, Term::Negative(r2))]
            | [(p2, Term::Negative(r2)), (p1, Term::Positive(r1))] => self.format_external(
                &External::FromDependencyOf((*p1).clone(), r1.clone(), (*p2).clone(), r2.clone()),
            ),
            slice => {
                let parts: Vec<String> = slice
                    .iter()
                    .map(|(p, t)| match t {
                        Term::Positive(r) => with_range(p, r),
                        Term::Negative(r) => format!("not {}", with_range(p, r)),
                    })
                    .collect();
                format!("{} cannot be used together", parts.join(", "))
            }
        }
    }

    fn explain_both_external(&self, e1: &Ext, e2: &Ext, current: &Terms) -> String {
        format!(
            "Because {} and {}, {}.",
            self.format_external(e1),
            self.format_external(e2),
            self.format_terms(current)
        )
    }

    fn explain_both_ref(
        &self,
        id1: usize,
        d1: &Der,
        id2: usize,
        d2: &Der,
        current: &Terms,
    ) -> String {
        format!(
            "Because {} ({id1}) and {} ({id2}), {}.",
            self.format_terms(&d1.terms),
            self.format_terms(&d2.terms),
            self.format_terms(current)
        )
    }

    fn explain_ref_and_external(&self, id: usize, d: &Der, e: &Ext, current: &Terms) -> String {
        format!(
            "Because {} ({id}) and {}, {}.",
            self.format_terms(&d.terms),
            self.format_external(e),
            self.format_terms(current)
        )
    }

    fn and_explain_external(&self, e: &Ext, current: &Terms) -> String {
        format!(
            "And because {}, {}.",
            self.format_external(e),
            self.format_terms(current)
        )
    }

    fn and_explain_ref(&self, id: usize, d: &Der, current: &Terms) -> String {
        format!(
            "And because {} ({id}), {}.",
            self.format_terms(&d.terms),
            self.format_terms(current)
        )
    }

    fn and_explain_prior_and_external(&self, prior: &Ext, e: &Ext, current: &Terms) -> String {
        format!(
            "And because {} and {}, {}.",
            self.format_external(prior),
            self.format_external(e),
            self.format_terms(current)
        )
    }
}
