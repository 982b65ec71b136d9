use lqx_api::{LoadAverage, MemoryInfo};

/// `MemTotal` and `MemAvailable` from `/proc/meminfo`, in bytes.
pub fn meminfo(text: &str) -> Result<MemoryInfo, String> {
    let field = |name: &str| -> Result<u64, String> {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|rest| {
                let mut words = rest.split_whitespace();
                let n: u64 = words.next()?.parse().ok()?;
                match words.next() {
                    Some("kB") => n.checked_mul(1024),
                    None => Some(n),
                    Some(_) => None,
                }
            })
            .ok_or_else(|| format!("no valid {name} line"))
    };
    Ok(MemoryInfo {
        total_bytes: field("MemTotal")?,
        available_bytes: field("MemAvailable")?,
    })
}

/// The three load averages from `/proc/loadavg`.
pub fn load_average(text: &str) -> Result<LoadAverage, String> {
    let mut words = text.split_whitespace().map(str::parse::<f64>);
    let mut next = || match words.next() {
        Some(Ok(v)) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("unexpected contents {text:?}")),
    };
    Ok(LoadAverage {
        one: next()?,
        five: next()?,
        fifteen: next()?,
    })
}

/// Whole seconds since boot from `/proc/uptime`.
pub fn uptime_seconds(text: &str) -> Result<u64, String> {
    text.split_whitespace()
        .next()
        .and_then(|w| w.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        // Truncation to whole seconds is intended.
        .map(|v| v as u64)
        .ok_or_else(|| format!("unexpected contents {text:?}"))
}

/// Boot time as seconds since the epoch (`btime` in `/proc/stat`).
pub fn boot_time(text: &str) -> Result<i64, String> {
    text.lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| "no btime line".to_owned())
}

/// Model name of the first processor in `/proc/cpuinfo` (x86's
/// `model name`; other architectures name it differently).
pub fn cpu_model(text: &str) -> Option<String> {
    const KEYS: [&str; 4] = ["model name", "Model", "cpu model", "cpu"];
    KEYS.iter().find_map(|key| {
        text.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k.trim() == *key && !v.trim().is_empty()).then(|| v.trim().to_owned())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_in_bytes() {
        let text =
            "MemTotal:       24579216 kB\nMemFree:        1 kB\nMemAvailable:   23000000 kB\n";
        let m = meminfo(text).unwrap();
        assert_eq!(m.total_bytes, 24_579_216 * 1024);
        assert_eq!(m.available_bytes, 23_000_000 * 1024);
        assert!(meminfo("MemTotal: 5 kB\n").is_err());
        assert!(meminfo("MemTotal: x kB\nMemAvailable: 1 kB").is_err());
    }

    #[test]
    fn loadavg() {
        let l = load_average("0.52 0.58 0.59 2/345 12345\n").unwrap();
        assert_eq!((l.one, l.five, l.fifteen), (0.52, 0.58, 0.59));
        assert!(load_average("0.1 0.2").is_err());
        assert!(load_average("NaN 1 1").is_err());
    }

    #[test]
    fn uptime() {
        assert_eq!(uptime_seconds("12345.67 2345.00\n").unwrap(), 12345);
        assert!(uptime_seconds("").is_err());
        assert!(uptime_seconds("-1 2").is_err());
    }

    #[test]
    fn btime() {
        assert_eq!(
            boot_time("cpu  1 2 3\nbtime 1764150000\nprocesses 9\n").unwrap(),
            1_764_150_000
        );
        assert!(boot_time("cpu 1\n").is_err());
    }

    #[test]
    fn cpu_model_x86() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 85\nmodel name\t: Intel(R) Xeon(R)\n";
        assert_eq!(cpu_model(text).as_deref(), Some("Intel(R) Xeon(R)"));
        assert_eq!(cpu_model("processor : 0\n"), None);
    }
}
