//! The installable candidates of one project for one target interpreter:
//! per version, the best compatible wheel (by tag rank), any sdist, and
//! whether the release is yanked or too new for the cooldown.

use std::collections::BTreeMap;

use pyward_dist::{DistFilename, Tags, Version};
use pyward_index::{DistFile, ProjectPage};

/// What one version of a project offers this interpreter.
#[derive(Debug, Clone, Default)]
pub struct VersionCandidate {
    /// The preferred compatible wheel and its tag rank.
    pub wheel: Option<(usize, DistFile)>,
    /// A source distribution, when one exists and its requires-python fits.
    pub sdist: Option<DistFile>,
    /// Every usable file of this version is yanked (PEP 592).
    pub yanked: Option<String>,
    /// Wheels exist for this version, but none for this interpreter.
    pub has_incompatible_wheels: bool,
    /// Files were skipped because their `requires-python` excludes the target.
    pub requires_python_skipped: bool,
}

/// Which kinds of files may be used for one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formats {
    /// Wheels only (the project may not be built from source).
    Wheels,
    /// A wheel when the version has one, else its sdist.
    WheelsThenSdist,
    /// Only the sdist (`--no-binary`).
    Sdist,
}

impl VersionCandidate {
    pub fn is_installable(&self, allow_sdist: bool) -> bool {
        self.wheel.is_some() || (allow_sdist && self.sdist.is_some())
    }

    /// The file to use under `formats`: the wheel wherever one may be used.
    pub fn file(&self, formats: Formats) -> Option<&DistFile> {
        let wheel = self.wheel.as_ref().map(|(_, f)| f);
        match formats {
            Formats::Wheels => wheel,
            Formats::WheelsThenSdist => wheel.or(self.sdist.as_ref()),
            Formats::Sdist => self.sdist.as_ref(),
        }
    }
}

/// All versions of one project, in ascending order.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    pub versions: BTreeMap<Version, VersionCandidate>,
}

/// Options that decide which files count.
#[derive(Debug, Clone, Default)]
pub struct CandidateFilter {
    /// Files uploaded after this RFC 3339 timestamp are ignored (release cooldown).
    pub exclude_newer: Option<String>,
}

impl Candidates {
    pub fn from_page(
        page: &ProjectPage,
        tags: &Tags,
        python: &Version,
        filter: &CandidateFilter,
    ) -> Self {
        let mut versions: BTreeMap<Version, VersionCandidate> = BTreeMap::new();
        // Per version: are all files yanked? Track (any non-yanked, first reason).
        let mut unyanked: BTreeMap<Version, bool> = BTreeMap::new();
        for file in &page.files {
            if let (Some(cutoff), Some(uploaded)) = (&filter.exclude_newer, &file.upload_time) {
                if uploaded.as_str() > cutoff.as_str() {
                    continue;
                }
            }
            let version = file.dist.version().clone();
            let entry = versions.entry(version.clone()).or_default();
            if let Some(rp) = &file.requires_python {
                if !rp.contains(python) {
                    entry.requires_python_skipped = true;
                    continue;
                }
            }
            match &file.dist {
                DistFilename::Wheel(w) => match tags.rank(w) {
                    Some(rank) => {
                        let better = match &entry.wheel {
                            None => true,
                            Some((r, f)) => {
                                // Prefer non-yanked, then the better tag, then the higher build tag.
                                (f.yanked && !file.yanked)
                                    || (f.yanked == file.yanked
                                        && (rank < *r
                                            || (rank == *r && build_tag(file) > build_tag(f))))
                            }
                        };
                        if better {
                            entry.wheel = Some((rank, file.clone()));
                        }
                    }
                    None => entry.has_incompatible_wheels = true,
                },
                DistFilename::Sdist(_) => {
                    if entry
                        .sdist
                        .as_ref()
                        .is_none_or(|s| s.yanked && !file.yanked)
                    {
                        entry.sdist = Some(file.clone());
                    }
                }
            }
            let any = unyanked.entry(version.clone()).or_insert(false);
            if !file.yanked {
                *any = true;
            } else if entry.yanked.is_none() {
                entry.yanked = Some(file.yank_reason.clone().unwrap_or_default());
            }
        }
        for (v, any_unyanked) in unyanked {
            if any_unyanked {
                if let Some(c) = versions.get_mut(&v) {
                    c.yanked = None;
                }
            }
        }
        Candidates { versions }
    }
}

fn build_tag(file: &DistFile) -> Option<pyward_dist::filename::BuildTag> {
    match &file.dist {
        DistFilename::Wheel(w) => w.build.clone(),
        DistFilename::Sdist(_) => None,
    }
}
