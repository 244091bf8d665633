//! Where cases come from: the committed corpus and regressions (every input with a wire
//! form, see [`super::case::from_input`]), the wire regressions, fresh inputs from the same
//! generators (random bytes read through each target's structured model), and byte-level
//! mutations of either. All drawn from one seeded RNG, so a seed names a run's cases.
//!
//! Order: first every committed input once (targets interleaved, each target's inputs
//! shuffled by the seed), then fresh inputs and mutations alternating, forever.

use super::case::{from_input, version_of, wire_targets, WireCase};
use super::mutate::mutate;
use super::regression as wire_regression;
use super::target::{Protocol, Scheme};
use crate::targets::{corpus, Target};
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

/// Which sources are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sources {
    /// `corpus/<target>/`.
    pub corpus: bool,
    /// `regressions/<target>/` and the wire regressions.
    pub regressions: bool,
    /// Fresh inputs from the generators.
    pub fresh: bool,
    /// Mutations of the other sources' inputs.
    pub mutate: bool,
}

impl Sources {
    /// Every source.
    pub const ALL: Sources = Sources {
        corpus: true,
        regressions: true,
        fresh: true,
        mutate: true,
    };

    /// Parses `corpus,regressions,fresh,mutate` (any subset, or `all`).
    ///
    /// # Errors
    /// An unknown name, or none at all.
    pub fn parse(spec: &str) -> Result<Sources, String> {
        let mut s = Sources {
            corpus: false,
            regressions: false,
            fresh: false,
            mutate: false,
        };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "all" => s = Sources::ALL,
                "corpus" => s.corpus = true,
                "regressions" => s.regressions = true,
                "fresh" => s.fresh = true,
                "mutate" => s.mutate = true,
                other => {
                    return Err(format!(
                        "unknown case source {other:?} (corpus, regressions, fresh, mutate, all)"
                    ))
                }
            }
        }
        if !(s.corpus || s.regressions || s.fresh) {
            return Err("no case source: name corpus, regressions or fresh".into());
        }
        Ok(s)
    }
}

/// A generator input, the cases it renders to, and where it came from.
#[derive(Clone, Debug)]
pub struct Input {
    /// Whose model reads it; `None` for a wire regression (already a case).
    pub target: Option<Target>,
    /// Its bytes (for a wire regression, the case's).
    pub data: Vec<u8>,
    /// The case itself, for a wire regression.
    pub wire: Option<WireCase>,
    /// Its wire cases (rendered once).
    pub cases: Vec<WireCase>,
    /// A file path or a description.
    pub origin: String,
}

impl Input {
    /// An input of `target`'s model.
    pub fn new(target: Target, data: Vec<u8>, origin: String) -> Input {
        Input {
            target: Some(target),
            cases: from_input(target, &data),
            data,
            wire: None,
            origin,
        }
    }

    /// A case as it is (a wire regression).
    pub fn wire(case: WireCase, origin: String) -> Input {
        Input {
            target: None,
            data: case.data().to_vec(),
            cases: vec![case.clone()],
            wire: Some(case),
            origin,
        }
    }
}

/// A case and where it came from.
#[derive(Clone, Debug)]
pub struct Case {
    /// What is sent.
    pub wire: WireCase,
    /// Where it came from (a path, `fresh handshake #12`, `mutation #3 of ...`).
    pub origin: String,
}

/// Every committed input with a wire form, under `corpus_root` and `regressions_root`.
///
/// # Errors
/// A directory that exists but cannot be read, or a malformed regression.
pub fn load_committed(
    sources: Sources,
    corpus_root: &Path,
    regressions_root: &Path,
) -> Result<Vec<Input>, String> {
    let mut inputs = Vec::new();
    if sources.corpus {
        for target in wire_targets() {
            let files = corpus::files(corpus_root, target)
                .map_err(|e| format!("{}: {e}", corpus_root.join(target.name()).display()))?;
            for path in files {
                let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                inputs.push(Input::new(target, data, path.display().to_string()));
            }
        }
    }
    if sources.regressions {
        let regs =
            crate::triage::regression::load_all(regressions_root).map_err(|e| e.to_string())?;
        let wire = wire_targets();
        for r in regs.into_iter().filter(|r| wire.contains(&r.target)) {
            inputs.push(Input::new(r.target, r.data, r.bin.display().to_string()));
        }
        for w in wire_regression::load_dir(&regressions_root.join(wire_regression::DIR))? {
            inputs.push(Input::wire(w.case, w.bin.display().to_string()));
        }
    }
    Ok(inputs)
}

/// What cases suit one target server.
#[derive(Clone, Copy, Debug)]
pub struct Fit {
    /// The protocol it speaks.
    pub protocol: Protocol,
    /// Its transport.
    pub scheme: Scheme,
    /// A PROXY header is expected.
    pub proxy: bool,
}

impl Fit {
    fn admits(&self, case: &WireCase) -> bool {
        case.applies(self.protocol, self.scheme, self.proxy)
    }
}

/// Generator targets fresh inputs are drawn from, by weight.
const FRESH: [(&str, u32); 7] = [
    ("frame", 6),
    ("codec", 2),
    ("session", 3),
    ("handshake", 6),
    ("records", 1),
    ("ws", 4),
    ("proxy", 2),
];

/// Recent fresh inputs kept as mutation bases.
const FRESH_POOL: usize = 256;
/// Draws before giving up on finding a fitting fresh case (none of the generators fits).
const MAX_DRAWS: usize = 64;

/// The endless case stream for one target server.
#[derive(Debug)]
pub struct CaseStream {
    fit: Fit,
    sources: Sources,
    /// Committed inputs that yield at least one fitting case, shuffled, targets interleaved.
    committed: Arc<Vec<Input>>,
    order: Vec<usize>,
    next_committed: usize,
    rounds: u64,
    pool: VecDeque<Input>,
    queue: VecDeque<Case>,
    rng: ChaCha20Rng,
    /// Generators (with weights) whose inputs fit this server.
    generators: Vec<(Target, u32)>,
    fresh_made: u64,
    mutants_made: u64,
    flip: bool,
}

impl CaseStream {
    /// A stream over `committed` (filtered to what fits) for the server `fit` describes.
    pub fn new(committed: &[Input], fit: Fit, sources: Sources, seed: u64) -> CaseStream {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let fitting: Vec<Input> = committed
            .iter()
            .filter(|i| i.cases.iter().any(|c| fit.admits(c)))
            .cloned()
            .collect();
        // Interleave targets: deal each target's shuffled inputs round-robin.
        let mut by_target: Vec<Vec<usize>> = Vec::new();
        let mut keys: Vec<Option<Target>> = Vec::new();
        for (i, input) in fitting.iter().enumerate() {
            match keys.iter().position(|k| *k == input.target) {
                Some(k) => by_target[k].push(i),
                None => {
                    keys.push(input.target);
                    by_target.push(vec![i]);
                }
            }
        }
        for list in &mut by_target {
            list.shuffle(&mut rng);
        }
        let mut order = Vec::with_capacity(fitting.len());
        let longest = by_target.iter().map(Vec::len).max().unwrap_or(0);
        for round in 0..longest {
            for list in &by_target {
                if let Some(&i) = list.get(round) {
                    order.push(i);
                }
            }
        }
        // A generator fits when a sample of its inputs yields a fitting case.
        let mut probe_rng = ChaCha20Rng::seed_from_u64(0);
        let generators: Vec<(Target, u32)> = FRESH
            .into_iter()
            .filter_map(|(name, w)| Some((Target::from_name(name)?, w)))
            .filter(|&(t, _)| {
                (0..16).any(|_| {
                    from_input(t, &fresh_input(t, &mut probe_rng))
                        .iter()
                        .any(|c| fit.admits(c))
                })
            })
            .collect();
        CaseStream {
            generators,
            fit,
            sources,
            committed: Arc::new(fitting),
            order,
            next_committed: 0,
            rounds: 0,
            pool: VecDeque::new(),
            queue: VecDeque::new(),
            rng,
            fresh_made: 0,
            mutants_made: 0,
            flip: false,
        }
    }

    /// How many committed inputs fit this server.
    pub fn committed_len(&self) -> usize {
        self.committed.len()
    }

    /// The next case (`None` only when no source can produce a fitting case).
    pub fn next_case(&mut self) -> Option<Case> {
        for _ in 0..MAX_DRAWS {
            if let Some(c) = self.queue.pop_front() {
                return Some(c);
            }
            let input = self.next_input()?;
            let fit = self.fit;
            self.queue.extend(
                input
                    .cases
                    .iter()
                    .filter(|c| fit.admits(c))
                    .map(|wire| Case {
                        wire: wire.clone(),
                        origin: input.origin.clone(),
                    }),
            );
        }
        None
    }

    fn next_input(&mut self) -> Option<Input> {
        let committed_pass = self.rounds == 0 || !(self.sources.fresh || self.sources.mutate);
        if committed_pass && !self.order.is_empty() {
            if let Some(&i) = self.order.get(self.next_committed) {
                self.next_committed += 1;
                return self.committed.get(i).cloned();
            }
            self.next_committed = 0;
            self.rounds += 1;
            if !(self.sources.fresh || self.sources.mutate) {
                return self.next_input();
            }
        }
        self.rounds = self.rounds.max(1);
        self.flip = !self.flip;
        let fresh_ok = self.sources.fresh && !self.generators.is_empty();
        let can_mutate =
            self.sources.mutate && (!self.committed.is_empty() || !self.pool.is_empty());
        if self.flip && can_mutate || !fresh_ok {
            if !can_mutate {
                return None;
            }
            return self.mutant();
        }
        let fresh = self.fresh()?;
        if self.pool.len() == FRESH_POOL {
            self.pool.pop_front();
        }
        self.pool.push_back(fresh.clone());
        Some(fresh)
    }

    /// A fresh input from a generator chosen by weight (none if no generator fits).
    fn fresh(&mut self) -> Option<Input> {
        let total: u32 = self.generators.iter().map(|(_, w)| w).sum();
        let mut pick = self.rng.gen_range(0..total.max(1));
        let &(mut target, _) = self.generators.first()?;
        for &(t, w) in &self.generators {
            if pick < w {
                target = t;
                break;
            }
            pick -= w;
        }
        self.fresh_made += 1;
        let data = fresh_input(target, &mut self.rng);
        Some(Input::new(
            target,
            data,
            format!("fresh {} #{}", target.name(), self.fresh_made),
        ))
    }

    /// A mutation of a committed input or a recent fresh one.
    fn mutant(&mut self) -> Option<Input> {
        let from_pool = self.committed.is_empty()
            || (!self.pool.is_empty() && self.sources.fresh && self.rng.gen_bool(0.5));
        let base = if from_pool {
            let i = self.rng.gen_range(0..self.pool.len().max(1));
            self.pool.get(i).cloned()
        } else {
            let i = self.rng.gen_range(0..self.committed.len().max(1));
            self.committed.get(i).cloned()
        };
        let Some(base) = base else {
            return self.fresh();
        };
        let other = {
            let i = self.rng.gen_range(0..self.committed.len().max(1));
            self.committed
                .get(i)
                .or(self.pool.front())
                .map(|o| o.data.clone())
                .unwrap_or_default()
        };
        self.mutants_made += 1;
        let data = mutate(&base.data, &other, &mut self.rng);
        let origin = format!("mutation #{} of {}", self.mutants_made, base.origin);
        match (&base.wire, base.target) {
            (Some(w), _) => Some(Input::wire(w.with_data(data), origin)),
            (None, Some(t)) => Some(Input::new(t, data, origin)),
            (None, None) => self.fresh(),
        }
    }
}

/// Random bytes for `target`'s model, shaped so most of them read as something.
fn fresh_input(target: Target, rng: &mut ChaCha20Rng) -> Vec<u8> {
    let random = |rng: &mut ChaCha20Rng, lo: usize, hi: usize| {
        let mut v = vec![0u8; rng.gen_range(lo..=hi)];
        rng.fill_bytes(&mut v);
        v
    };
    match target.name() {
        // A version byte, then one to four frames from the codec model, sometimes a tail.
        "frame" => {
            let first: u8 = rng.gen();
            let version = version_of(first);
            let mut out = vec![first];
            for _ in 0..rng.gen_range(1..=4) {
                let bytes = random(rng, 8, 256);
                if let Ok(input) =
                    <crate::targets::codec::CodecInput as arbitrary::Arbitrary>::arbitrary_take_rest(
                        arbitrary::Unstructured::new(&bytes),
                    )
                {
                    out.extend(input.frame.to_bytes(version));
                }
            }
            if rng.gen_bool(0.2) {
                out.extend(random(rng, 1, 32));
            }
            out
        }
        "codec" => random(rng, 8, 256),
        "session" => random(rng, 8, 400),
        "handshake" => random(rng, 32, 2048),
        "records" => {
            let mut out = vec![0x16, 0x03, rng.gen_range(0..=4)];
            out.extend(random(rng, 0, 512));
            out
        }
        // Mode 1 (the modelled stream), any read schedule.
        "ws" => {
            let mut out = vec![rng.gen::<u8>() | 1];
            out.extend(random(rng, 16, 1024));
            out
        }
        "proxy" => {
            let mut out = if rng.gen_bool(0.5) {
                b"PROXY ".to_vec()
            } else {
                b"\r\n\r\n\0\r\nQUIT\n".to_vec()
            };
            out.extend(random(rng, 0, 64));
            out
        }
        _ => random(rng, 0, 256),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(protocol: Protocol, scheme: Scheme) -> Fit {
        Fit {
            protocol,
            scheme,
            proxy: false,
        }
    }

    #[test]
    fn sources_parse() {
        assert_eq!(Sources::parse("all").unwrap(), Sources::ALL);
        let s = Sources::parse("fresh,mutate").unwrap();
        assert!(s.fresh && s.mutate && !s.corpus && !s.regressions);
        assert!(Sources::parse("mutate").is_err());
        assert!(Sources::parse("corpus,nope").is_err());
    }

    #[test]
    fn committed_inputs_come_first_then_fresh_and_mutants_all_fitting() {
        let committed = vec![
            Input::new(
                Target::from_name("frame").unwrap(),
                vec![2, 0xc0, 0],
                "a".into(),
            ),
            Input::new(
                Target::from_name("records").unwrap(),
                vec![0x16],
                "tls-only".into(),
            ),
        ];
        let f = fit(Protocol::Wkproto, Scheme::Tcp);
        let mut s = CaseStream::new(&committed, f, Sources::ALL, 1);
        assert_eq!(s.committed_len(), 1);
        let first: Vec<Case> = (0..2).map(|_| s.next_case().unwrap()).collect();
        assert!(first.iter().all(|c| c.origin == "a"));
        for _ in 0..500 {
            let c = s.next_case().unwrap();
            assert!(f.admits(&c.wire), "{c:?}");
            assert_ne!(c.origin, "tls-only");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_cases() {
        let f = fit(Protocol::Wkproto, Scheme::Tls);
        let run = |seed| {
            let mut s = CaseStream::new(&[], f, Sources::parse("fresh,mutate").unwrap(), seed);
            (0..300)
                .map(|_| s.next_case().unwrap().wire)
                .collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
    }

    #[test]
    fn a_tls_server_gets_only_tls_cases() {
        let f = fit(Protocol::Tls, Scheme::Tls);
        let mut s = CaseStream::new(&[], f, Sources::parse("fresh,mutate").unwrap(), 2);
        for _ in 0..300 {
            let c = s.next_case().unwrap();
            assert!(matches!(
                c.wire,
                WireCase::Handshake(_)
                    | WireCase::Bytes {
                        layer: super::super::case::Layer::Socket,
                        ..
                    }
            ));
        }
    }
}
