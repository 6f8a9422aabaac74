//! [`Plan`]: the successor lists (compressed) and in-degrees of a graph given
//! by requirement lists, and Kahn's topological order over them. O(V+E).

/// Successors in compressed form, plus in-degrees: what a run needs.
pub(crate) struct Plan {
    pub succ_off: Vec<u32>,
    pub succ: Vec<u32>,
    pub indegree: Vec<u32>,
}

impl Plan {
    /// The plan of `n` jobs where job `i` requires `requires(i)` (indices below `n`).
    pub fn build<'a>(n: usize, requires: impl Fn(usize) -> &'a [u32]) -> Plan {
        // succ_off[q + 1] ends as the end of q's successor list; filling walks
        // jobs backwards and decrements, so each list comes out in job order
        // and no second offsets array is needed
        let mut succ_off = vec![0u32; n + 1];
        let mut indegree = vec![0u32; n];
        for (i, unmet) in indegree.iter_mut().enumerate() {
            let reqs = requires(i);
            *unmet = reqs.len() as u32;
            for &q in reqs {
                succ_off[q as usize + 1] += 1;
            }
        }
        for i in 0..n {
            succ_off[i + 1] += succ_off[i];
        }
        let mut succ = vec![0u32; succ_off[n] as usize];
        for i in (0..n).rev() {
            for &q in requires(i).iter().rev() {
                let end = &mut succ_off[q as usize + 1];
                *end -= 1;
                succ[*end as usize] = i as u32;
            }
        }
        // now succ_off[q + 1] is the start of q's list: shift back by one slot
        succ_off.remove(0);
        succ_off.push(succ.len() as u32);
        Plan {
            succ_off,
            succ,
            indegree,
        }
    }

    /// Jobs that require job `i` (once per requirement), in job order.
    pub fn successors(&self, i: u32) -> &[u32] {
        &self.succ[self.succ_off[i as usize] as usize..self.succ_off[i as usize + 1] as usize]
    }

    /// A topological order (Kahn, seeded in job order), or the jobs left on
    /// or behind cycles.
    pub fn topological(&self) -> Result<Vec<u32>, Vec<u32>> {
        let n = self.indegree.len();
        let mut unmet = self.indegree.clone();
        let mut order: Vec<u32> = (0..n as u32).filter(|&i| unmet[i as usize] == 0).collect();
        let mut head = 0;
        while head < order.len() {
            let i = order[head];
            head += 1;
            for &s in self.successors(i) {
                unmet[s as usize] -= 1;
                if unmet[s as usize] == 0 {
                    order.push(s);
                }
            }
        }
        if order.len() == n {
            Ok(order)
        } else {
            Err((0..n as u32).filter(|&i| unmet[i as usize] > 0).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successors_come_in_job_order_and_kahn_orders_a_diamond() {
        let reqs: Vec<Vec<u32>> = vec![vec![], vec![0], vec![0], vec![2, 1]];
        let plan = Plan::build(4, |i| &reqs[i]);
        assert_eq!(plan.successors(0), [1, 2]);
        assert_eq!(plan.indegree, [0, 1, 1, 2]);
        assert_eq!(plan.topological(), Ok(vec![0, 1, 2, 3]));
    }

    #[test]
    fn kahn_leaves_the_jobs_on_a_cycle_and_behind_it() {
        let reqs: Vec<Vec<u32>> = vec![vec![], vec![2], vec![1], vec![2]];
        let plan = Plan::build(4, |i| &reqs[i]);
        assert_eq!(plan.topological(), Err(vec![1, 2, 3]));
    }
}
