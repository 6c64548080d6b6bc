//! One module per command.

pub mod audit;
pub mod check_names;
pub mod db;
pub mod freeze;
pub mod hash;
pub mod info;
pub mod install;
pub mod list;
pub mod lock;
pub mod report;
pub mod scan;
pub mod server;
pub mod show;
pub mod uninstall;
pub mod venv;

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::context::Context;

/// A spinner on stderr (terminal only); cleared when dropped.
pub struct Spinner(ProgressBar);

impl Drop for Spinner {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

pub fn spinner(ctx: &Context, message: &str) -> Spinner {
    let bar = if ctx.printer.progress_enabled() {
        let b = ProgressBar::new_spinner();
        b.set_draw_target(ProgressDrawTarget::stderr());
        b.set_message(message.to_string());
        b.enable_steady_tick(Duration::from_millis(100));
        b
    } else {
        ProgressBar::hidden()
    };
    Spinner(bar)
}

/// A counting progress bar on stderr (terminal only).
pub fn progress_bar(ctx: &Context, len: u64, message: &str) -> ProgressBar {
    if !ctx.printer.progress_enabled() {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg} {bar:30} {pos}/{len}") {
        b.set_style(style);
    }
    b.set_message(message.to_string());
    b
}
