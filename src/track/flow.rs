//! Flow keys: one key for both directions of a TCP connection.

use crate::event::Endpoint;

/// The canonical (direction-free) key of a 4-tuple: the smaller endpoint
/// first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub lo: Endpoint,
    pub hi: Endpoint,
}

impl FlowKey {
    /// The key, and whether `src` is the `lo` endpoint.
    pub fn new(src: Endpoint, dst: Endpoint) -> (Self, bool) {
        if src <= dst {
            (Self { lo: src, hi: dst }, true)
        } else {
            (Self { lo: dst, hi: src }, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_share_a_key() {
        let a = Endpoint {
            ip: "10.0.0.1".parse().unwrap(),
            port: 80,
        };
        let b = Endpoint {
            ip: "10.0.0.2".parse().unwrap(),
            port: 5000,
        };
        let (k1, lo1) = FlowKey::new(a, b);
        let (k2, lo2) = FlowKey::new(b, a);
        assert_eq!(k1, k2);
        assert_ne!(lo1, lo2);
        assert_eq!(format!("{b}"), "10.0.0.2:5000");
        let v6 = Endpoint {
            ip: "::1".parse().unwrap(),
            port: 8000,
        };
        assert_eq!(format!("{v6}"), "[::1]:8000");
    }
}
