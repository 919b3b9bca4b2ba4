//! What a run will cost, told before it starts when the configuration is known to be large: the
//! figures are those of `docs/numbers.md` (measured with `--threads 2 --keep-going` on the reference machine,
//! 2 cores), so that a user who asks for a big space knows what is coming and how to bound it.
//!
//! A configuration matches a measured one when every setting is the same; one that is at least
//! as large in every count (acceptors, proposers, rounds, losses, ...) with the same network and
//! flaw is at least as large as it, and is told so.

use paxos_model::check::cluster::ClusterConfig;
use paxos_model::check::paxos::{MultiPaxosConfig, SingleDecreeConfig};
use paxos_model::check::settings::{thousands, ModelConfig};

/// One measured run: the model, the settings that differ from its defaults, and its cost.
struct Measured {
    model: &'static str,
    changed: &'static [(&'static str, &'static str)],
    unique_states: u64,
    seconds: f64,
    peak_mib: u64,
}

/// Runs below this many states are not worth a note.
const WORTH_A_NOTE: u64 = 1_000_000;

/// The table of large configurations in `docs/numbers.md` (`--threads 2 --keep-going`).
const MEASURED: &[Measured] = &[
    Measured {
        model: "single",
        changed: &[("rounds", "3")],
        unique_states: 7_153_085,
        seconds: 25.6,
        peak_mib: 1_220,
    },
    Measured {
        model: "single",
        changed: &[
            ("network", "duplicating"),
            ("losses", "2"),
            ("crashes", "1"),
        ],
        unique_states: 3_085_514,
        seconds: 25.1,
        peak_mib: 1_036,
    },
    Measured {
        model: "multi",
        changed: &[("rounds", "2")],
        unique_states: 8_584_801,
        seconds: 37.5,
        peak_mib: 2_427,
    },
    Measured {
        model: "multi",
        changed: &[("leaders", "3")],
        unique_states: 37_161_763,
        seconds: 264.3,
        peak_mib: 12_496,
    },
    Measured {
        model: "multi",
        changed: &[("acceptors", "5")],
        unique_states: 1_640_536,
        seconds: 13.4,
        peak_mib: 572,
    },
    // The cluster's figures were measured after the stale cut kept catch-up messages, on a
    // machine shared with other work: times are generous.
    Measured {
        model: "cluster",
        changed: &[("timeouts", "1"), ("start", "voters")],
        unique_states: 6_477_937,
        seconds: 95.7,
        peak_mib: 4_763,
    },
    Measured {
        model: "cluster",
        changed: &[
            ("clients", "1"),
            ("crashes", "1"),
            ("disk-losses", "1"),
            ("crashes-in-run", "2"),
        ],
        unique_states: 1_758_152,
        seconds: 11.0,
        peak_mib: 781,
    },
];

/// The note to print before checking `model` with `flags`, if its size is known to be large.
pub fn note(model: &str, flags: &[(&'static str, String)]) -> Option<String> {
    let defaults = default_flags(model)?;
    // A flag the defaults do not print at all (`--disk-losses`) is a change too.
    let changed: Vec<(&str, &str)> = flags
        .iter()
        .filter(|(flag, value)| {
            !defaults
                .iter()
                .any(|(default_flag, default)| default_flag == flag && default == value)
        })
        .map(|(flag, value)| (*flag, value.as_str()))
        .collect();
    let exact = MEASURED
        .iter()
        .find(|run| run.model == model && same_settings(&changed, run.changed));
    let (run, relation) = match exact {
        Some(run) => (run, "about"),
        None => {
            let smaller = MEASURED
                .iter()
                .filter(|run| run.model == model && at_least(flags, &defaults, run.changed))
                .max_by_key(|run| run.unique_states)?;
            (smaller, "more than")
        }
    };
    if run.unique_states < WORTH_A_NOTE {
        return None;
    }
    let measured = run
        .changed
        .iter()
        .map(|(flag, value)| format!(" --{flag} {value}"))
        .collect::<String>();
    Some(format!(
        "note: this configuration has {relation} {} unique states; \
         `check {model}{measured}` took {:.0} s and {} MiB with 2 threads on a 2-core machine. \
         --timeout, --max-states and --max-memory bound a run; Ctrl-C stops it with a report.",
        thousands(run.unique_states as usize),
        run.seconds,
        thousands(run.peak_mib as usize)
    ))
}

fn default_flags(model: &str) -> Option<Vec<(&'static str, String)>> {
    match model {
        "single" => Some(SingleDecreeConfig::default().flags()),
        "multi" => Some(MultiPaxosConfig::default().flags()),
        "cluster" => Some(ClusterConfig::default().flags()),
        _ => None,
    }
}

fn same_settings(changed: &[(&str, &str)], measured: &[(&str, &str)]) -> bool {
    changed.len() == measured.len() && changed.iter().all(|setting| measured.contains(setting))
}

/// Every setting of `flags` is at least the measured run's: counts no smaller, the rest equal.
fn at_least(
    flags: &[(&'static str, String)],
    defaults: &[(&'static str, String)],
    measured: &[(&str, &str)],
) -> bool {
    flags.iter().all(|(flag, value)| {
        let reference = measured
            .iter()
            .find(|(measured_flag, _)| measured_flag == flag)
            .map(|(_, value)| value.to_string())
            .or_else(|| {
                defaults
                    .iter()
                    .find(|(default_flag, _)| default_flag == flag)
                    .map(|(_, value)| value.clone())
            });
        let Some(reference) = reference else {
            return false;
        };
        match (value.parse::<u64>(), reference.parse::<u64>()) {
            (Ok(count), Ok(reference)) => count >= reference,
            _ => *value == reference,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(config: impl ModelConfig) -> Vec<(&'static str, String)> {
        config.flags()
    }

    #[test]
    fn a_measured_configuration_is_told_its_size() {
        let config = SingleDecreeConfig {
            rounds: 3,
            ..SingleDecreeConfig::default()
        };
        let note = note("single", &flags(config)).expect("a large run");
        assert!(note.contains("about 7,153,085 unique states"), "{note}");
        assert!(note.contains("`check single --rounds 3`"), "{note}");
    }

    #[test]
    fn a_larger_one_is_told_it_is_at_least_as_large() {
        let config = SingleDecreeConfig {
            rounds: 4,
            acceptors: 5,
            ..SingleDecreeConfig::default()
        };
        let note = note("single", &flags(config)).expect("a large run");
        assert!(note.contains("more than 7,153,085"), "{note}");
    }

    #[test]
    fn a_setting_the_measured_runs_never_had_is_not_taken_for_one_of_them() {
        let lost_disk = ClusterConfig {
            faults: paxos_model::check::settings::Faults {
                crashes: 1,
                ..Default::default()
            },
            clients: 1,
            disk_losses: 1,
            crashes_in_run: Some(2),
            ..ClusterConfig::default()
        };
        let measured = note("cluster", &flags(lost_disk.clone())).expect("measured");
        assert!(measured.contains("about 1,758,152"), "{measured}");
        let two_clients = ClusterConfig {
            clients: 2,
            ..lost_disk.clone()
        };
        let larger = note("cluster", &flags(two_clients)).expect("at least as large");
        assert!(larger.contains("more than 1,758,152"), "{larger}");
        // Two replicas with a lost disk: no measured run has a lost disk and is no larger, and
        // the runs without one are no guide, so no note rather than a wrong one.
        let two_replicas = ClusterConfig {
            replicas: 2,
            ..lost_disk
        };
        assert_eq!(note("cluster", &flags(two_replicas)), None);
    }

    #[test]
    fn small_or_unrelated_configurations_get_no_note() {
        assert_eq!(note("single", &flags(SingleDecreeConfig::default())), None);
        let other_network = SingleDecreeConfig {
            rounds: 3,
            faults: paxos_model::check::settings::Faults {
                network: paxos_model::check::settings::NetworkKind::Ordered,
                ..Default::default()
            },
            ..SingleDecreeConfig::default()
        };
        assert_eq!(note("single", &flags(other_network)), None);
    }
}
