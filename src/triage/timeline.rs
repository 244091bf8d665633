//! A fuzzing run over time: libFuzzer's stderr is copied to the run's log while every
//! status line is time-stamped on arrival (libFuzzer prints no clock of its own), giving the
//! coverage, features, exec/s and corpus-size series of the campaign page.

use super::campaign::{status_line, Status};
use std::io::{self, BufRead, BufReader, Read, Write};

/// One status line and when it arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Milliseconds since the run started.
    pub millis: u64,
    /// What the line said.
    pub status: Status,
}

impl Sample {
    /// Seconds since the run started.
    pub fn secs(&self) -> f64 {
        self.millis as f64 / 1000.0
    }
}

/// Copies `stderr` to `log` line by line until it closes; `now_millis` reads the run's
/// clock. Returns the status lines with their arrival times.
pub fn record(
    stderr: impl Read,
    mut log: impl Write,
    mut now_millis: impl FnMut() -> u64,
) -> io::Result<Vec<Sample>> {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    let mut samples = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        log.write_all(&line)?;
        if let Some(status) = status_line(&String::from_utf8_lossy(&line)) {
            samples.push(Sample {
                millis: now_millis(),
                status,
            });
        }
    }
    log.flush()?;
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_everything_and_stamps_status_lines() {
        let text = "INFO: Seed: 1\n#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                    #64\tpulse  cov: 12 ft: 20 corp: 2/3b lim: 4 exec/s: 32 rss: 31Mb\nDone 64 runs\n";
        let mut log = Vec::new();
        let mut clock = [250u64, 1750].into_iter();
        let samples = record(text.as_bytes(), &mut log, || clock.next().unwrap()).unwrap();
        assert_eq!(log, text.as_bytes());
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[1].secs(), 1.75);
        assert_eq!(
            samples[1].status,
            Status {
                execs: 64,
                cov: 12,
                ft: 20,
                corpus: 2,
                exec_per_sec: 32
            }
        );
    }
}
