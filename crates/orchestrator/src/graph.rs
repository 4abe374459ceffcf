//! The dependency graph of a plan: `deps[i]` lists the steps step `i` depends on (by index).
//! Edges to unknown steps are left out by the caller and reported separately.

use std::collections::BTreeSet;

/// Steps in an order where every step comes after its dependencies (Kahn's algorithm, lowest
/// index first among ready steps, so the order is stable), or the cycles that prevent one.
/// Each cycle is given as the indexes along it, starting at its lowest index.
pub fn topological_order(deps: &[Vec<usize>]) -> Result<Vec<usize>, Vec<Vec<usize>>> {
    let n = deps.len();
    let mut waiting_on: Vec<usize> = deps.iter().map(|d| dedup_count(d)).collect();
    let mut dependents = vec![Vec::new(); n];
    for (step, ds) in deps.iter().enumerate() {
        for &d in ds.iter().collect::<BTreeSet<_>>() {
            dependents[d].push(step);
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| waiting_on[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(step) = ready.pop_first() {
        order.push(step);
        for &next in &dependents[step] {
            waiting_on[next] -= 1;
            if waiting_on[next] == 0 {
                ready.insert(next);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    let stuck: BTreeSet<usize> = (0..n).filter(|&i| waiting_on[i] > 0).collect();
    Err(cycles_among(deps, &stuck))
}

/// Every step that `step` depends on, directly or not.
pub fn ancestors(deps: &[Vec<usize>], step: usize) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<usize> = deps[step].clone();
    while let Some(s) = stack.pop() {
        if seen.insert(s) {
            stack.extend(deps[s].iter().copied());
        }
    }
    seen
}

fn dedup_count(ds: &[usize]) -> usize {
    ds.iter().collect::<BTreeSet<_>>().len()
}

/// One concrete cycle per group of mutually dependent steps among `stuck` (steps that are on a
/// cycle or wait on one). Steps merely downstream of a cycle are not reported as cycles.
fn cycles_among(deps: &[Vec<usize>], stuck: &BTreeSet<usize>) -> Vec<Vec<usize>> {
    let mut cycles = Vec::new();
    let mut covered = BTreeSet::new();
    for &start in stuck {
        if covered.contains(&start) {
            continue;
        }
        // Follow dependencies from `start` until a step repeats: that loop is a cycle.
        let mut path = vec![start];
        let mut position = vec![None; deps.len()];
        position[start] = Some(0);
        let mut current = start;
        while let Some(&next) = deps[current].iter().filter(|d| stuck.contains(d)).min() {
            if let Some(at) = position[next] {
                let cycle = &path[at..];
                if !cycle.iter().any(|s| covered.contains(s)) {
                    let lowest = cycle.iter().enumerate().min_by_key(|(_, s)| **s).unwrap().0;
                    let mut rotated = cycle[lowest..].to_vec();
                    rotated.extend_from_slice(&cycle[..lowest]);
                    covered.extend(rotated.iter().copied());
                    cycles.push(rotated);
                }
                break;
            }
            position[next] = Some(path.len());
            path.push(next);
            current = next;
        }
        covered.insert(start);
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_a_diamond_dependencies_first() {
        // 0 ← 1, 0 ← 2, {1,2} ← 3
        let deps = vec![vec![], vec![0], vec![0], vec![1, 2]];
        assert_eq!(topological_order(&deps).unwrap(), [0, 1, 2, 3]);
        assert_eq!(ancestors(&deps, 3), BTreeSet::from([0, 1, 2]));
        assert!(ancestors(&deps, 0).is_empty());
    }

    #[test]
    fn names_each_cycle_once_and_not_the_steps_behind_it() {
        // 0 → 1 → 2 → 0 is a cycle; 3 depends on 2 (stuck, but not on the cycle);
        // 4 ↔ 5 is a second cycle; 6 depends on itself.
        let deps = vec![
            vec![2],
            vec![0],
            vec![1],
            vec![2],
            vec![5],
            vec![4],
            vec![6],
        ];
        let cycles = topological_order(&deps).unwrap_err();
        assert_eq!(cycles, vec![vec![0, 2, 1], vec![4, 5], vec![6]]);
    }

    #[test]
    fn repeated_dependencies_count_once() {
        let deps = vec![vec![], vec![0, 0]];
        assert_eq!(topological_order(&deps).unwrap(), [0, 1]);
    }
}
