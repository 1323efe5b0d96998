//! Flow keys: one key for both directions of a TCP connection.

use std::net::IpAddr;

/// An endpoint: address and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ip {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

/// The direction of a packet within its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client (the side that sent the SYN).
    ToServer,
    /// From the server.
    ToClient,
}

impl Direction {
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }

    pub fn reverse(self) -> Self {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
}

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
