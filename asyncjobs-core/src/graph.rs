//! The requirement graph: checks (cycles, foreign requirements), successor
//! lists, and the topological order that numbers jobs in listings. All O(V+E).

use crate::error::SchedulerError;
use crate::scheduler::Scheduler;

/// Successors in compressed form, plus in-degrees: what a run needs.
pub(crate) struct Plan {
    pub succ_off: Vec<u32>,
    pub succ: Vec<u32>,
    pub indegree: Vec<u32>,
}

impl Plan {
    pub fn successors(&self, i: u32) -> &[u32] {
        &self.succ[self.succ_off[i as usize] as usize..self.succ_off[i as usize + 1] as usize]
    }
}

impl Scheduler {
    pub(crate) fn plan(&self) -> Plan {
        let n = self.records.len();
        // succ_off[q + 1] ends as the end of q's successor list; filling walks
        // jobs backwards and decrements, so each list comes out in job order
        // and no second offsets array is needed
        let mut succ_off = vec![0u32; n + 1];
        let mut indegree = vec![0u32; n];
        for (i, r) in self.records.iter().enumerate() {
            indegree[i] = r.requires.len() as u32;
            for &q in &r.requires {
                succ_off[q as usize + 1] += 1;
            }
        }
        for i in 0..n {
            succ_off[i + 1] += succ_off[i];
        }
        let mut succ = vec![0u32; succ_off[n] as usize];
        for (i, r) in self.records.iter().enumerate().rev() {
            for &q in r.requires.iter().rev() {
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

    /// A topological order (Kahn, seeded in insertion order), or the jobs left on cycles.
    fn kahn(&self, plan: &Plan) -> Result<Vec<u32>, Vec<u32>> {
        let n = self.records.len();
        let mut unmet = plan.indegree.clone();
        let mut order: Vec<u32> = (0..n as u32).filter(|&i| unmet[i as usize] == 0).collect();
        let mut head = 0;
        while head < order.len() {
            let i = order[head];
            head += 1;
            for &s in plan.successors(i) {
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

    /// Names one cycle among the jobs Kahn could not order.
    fn cycle_error(&self, left: &[u32]) -> SchedulerError {
        let mut on = vec![false; self.records.len()];
        left.iter().for_each(|&i| on[i as usize] = true);
        let mut seen_at = vec![usize::MAX; self.records.len()];
        let mut path: Vec<u32> = Vec::new();
        let mut cur = left[0];
        // every job left over has a requirement left over: walk them until one repeats
        while seen_at[cur as usize] == usize::MAX {
            seen_at[cur as usize] = path.len();
            path.push(cur);
            cur = *self.records[cur as usize]
                .requires
                .iter()
                .find(|&&q| on[q as usize])
                .expect("a job left by Kahn has a requirement left too");
        }
        let mut jobs: Vec<String> = path[seen_at[cur as usize]..]
            .iter()
            .map(|&i| self.records[i as usize].label())
            .collect();
        jobs.push(self.records[cur as usize].label());
        SchedulerError::Cycle {
            scheduler: self.get_label(),
            jobs,
        }
    }

    /// Checks this level: requirements on other schedulers' jobs, then cycles.
    fn check_level(&self, plan: &Plan) -> Result<Vec<u32>, SchedulerError> {
        if let Some(&(job, _)) = self.foreign.first() {
            return Err(SchedulerError::ForeignRequirement {
                scheduler: self.get_label(),
                job: self.records[job as usize].label(),
            });
        }
        self.kahn(plan).map_err(|left| self.cycle_error(&left))
    }

    /// Checks the whole tree (this scheduler and nested ones): no cycle, no
    /// requirement on a job of another scheduler. Errors name the jobs.
    pub fn check(&self) -> Result<(), SchedulerError> {
        let plan = self.checked_plan()?;
        // kept for the run, until the graph changes
        self.checked.set(Some(plan));
        Ok(())
    }

    /// [`check`](Self::check), handing back this level's plan: the one the last
    /// check kept when the graph has not changed since, so a run builds it once.
    pub(crate) fn checked_plan(&self) -> Result<Plan, SchedulerError> {
        if let Some(plan) = self.checked.take() {
            return Ok(plan);
        }
        let plan = self.plan();
        self.check_level(&plan)?;
        let mut nested = Ok(());
        self.for_each_nested(|_, inner| {
            if nested.is_ok() {
                nested = inner.check();
            }
        });
        nested?;
        Ok(plan)
    }

    /// True when neither this scheduler nor a nested one has a cycle (or an
    /// unsanitized requirement, which would make the graph unrunnable too).
    pub fn check_cycles(&self) -> bool {
        self.check().is_ok()
    }

    /// Job indices in listing order: the reference's repeated passes over the jobs
    /// in insertion order, computed in O(V+E): a job goes in the pass of its
    /// latest requirement, or the next one when that requirement comes after it.
    pub(crate) fn listing_order(&self) -> Result<Vec<u32>, SchedulerError> {
        let plan = self.plan();
        let topo = self.check_level(&plan)?;
        let mut pass = vec![0u32; self.records.len()];
        for &i in &topo {
            let p = self.records[i as usize]
                .requires
                .iter()
                .map(|&q| pass[q as usize] + u32::from(q > i))
                .max()
                .unwrap_or(0);
            pass[i as usize] = p;
        }
        let mut order: Vec<u32> = (0..self.records.len() as u32).collect();
        order.sort_by_key(|&i| (pass[i as usize], i));
        Ok(order)
    }
}
