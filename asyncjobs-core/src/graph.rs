//! [`Graph`]: one scheduler's jobs and the requirements between them — the
//! job records, the edges, the serial → index map and the cached plan — behind
//! methods that keep them consistent. Every change of structure goes through a
//! method of this module, and each of them drops the cached plan, so no caller
//! has to remember to.
//!
//! Jobs are kept in an arena (`Vec<Record>`), requirements as index lists;
//! every query and check here is O(V+E).

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use smallvec::SmallVec;

use crate::body::{label_from_type_name, Body, NestedHooks, RunFuture, TextFn};
use crate::error::JobError;
use crate::handle::{ErasedCell, JobRef, JobState};
use crate::job::JobOptions;
use crate::plan::Plan;
use crate::text::id_width;

static NEXT_UID: AtomicU32 = AtomicU32::new(1);

/// Marks a removed job in index maps.
const REMOVED: u32 = u32::MAX;

/// One job as the scheduler keeps it. Its requirements can only be changed
/// through [`Graph`], which keeps the plan cache in step.
pub(crate) struct Record {
    cell: Arc<dyn ErasedCell>,
    body: Body,
    /// Boxed so an unlabelled job pays one pointer for both labels.
    labels: Option<Box<Labels>>,
    /// Indices of required jobs in this scheduler (duplicates allowed, harmless).
    requires: SmallVec<[u32; 4]>,
    critical: bool,
    forever: bool,
    /// Stable identity within the scheduler (indices shift when jobs are removed).
    serial: u32,
}

struct Labels {
    text: Option<String>,
    graph: Option<String>,
}

impl Record {
    pub fn state(&self) -> JobState {
        self.cell.state()
    }
    pub fn set_state(&self, state: JobState) {
        self.cell.set_state(state)
    }
    pub fn error(&self) -> Option<&JobError> {
        self.cell.error()
    }
    pub fn critical(&self) -> bool {
        self.critical
    }
    pub fn forever(&self) -> bool {
        self.forever
    }
    pub fn requires(&self) -> &[u32] {
        &self.requires
    }

    /// The label of listings: the one given, else the job kind's default.
    pub fn label(&self) -> String {
        if let Some(text) = self.labels.as_ref().and_then(|l| l.text.as_ref()) {
            return text.clone();
        }
        match &self.body {
            Body::Future { name, .. } => label_from_type_name(name()).to_string(),
            Body::Abstract(j) => j.default_label(),
        }
    }

    /// The label graphs draw instead of `{id}: {label}`, if any.
    pub fn graph_label(&self) -> Option<String> {
        if let Some(graph) = self.labels.as_ref().and_then(|l| l.graph.as_ref()) {
            return Some(graph.clone());
        }
        match &self.body {
            Body::Abstract(j) => j.graph_label(),
            Body::Future { .. } => None,
        }
    }

    pub fn kind(&self) -> String {
        match &self.body {
            Body::Future { .. } => "Job".into(),
            Body::Abstract(j) => j.kind(),
        }
    }

    pub fn details(&self) -> Option<String> {
        match &self.body {
            Body::Abstract(j) => j.details(),
            Body::Future { .. } => None,
        }
    }

    /// The lines graphs draw under the label (by default the details).
    pub fn graph_details(&self) -> Option<String> {
        match &self.body {
            Body::Abstract(j) => j.graph_details(),
            Body::Future { .. } => None,
        }
    }

    /// Where the job runs, for graphs (see `AbstractJob::graph_target`).
    pub fn graph_target(&self) -> Option<String> {
        match &self.body {
            Body::Abstract(j) => j.graph_target(),
            Body::Future { .. } => None,
        }
    }

    /// The nested scheduler's hooks, when this job is one.
    pub fn nested(&self) -> Option<&dyn NestedHooks> {
        self.body.nested()
    }

    /// Number of jobs inside this job when it is a nested scheduler, at any depth.
    pub fn nested_size(&self) -> usize {
        self.nested().map_or(0, |n| n.size())
    }

    /// The job object, for typed queries (`Scheduler::jobs_of`).
    pub fn job_object(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        match &self.body {
            Body::Abstract(j) => j.as_any(),
            Body::Future { .. } => None,
        }
    }

    /// The job's cell, to be downcast into a typed handle.
    pub fn cell_any(&self) -> Arc<dyn Any + Send + Sync> {
        Arc::clone(&self.cell).into_any()
    }

    /// Starts the job (see [`Body::start`]).
    pub fn start(&mut self) -> RunFuture {
        self.body.start()
    }

    /// The `co_shutdown` of a job object; future jobs keep their hooks in the graph.
    pub fn shutdown(&self) -> Option<BoxFuture<'_, bool>> {
        match &self.body {
            Body::Abstract(j) => Some(j.shutdown()),
            Body::Future { .. } => None,
        }
    }

    /// The result as listings show it by default, once done without error.
    fn default_result_text(&self) -> Option<String> {
        match &self.body {
            Body::Abstract(j) => j.result_text(),
            Body::Future { .. } => self.cell.result_text(),
        }
    }
}

/// Why a level of the graph cannot run.
pub(crate) enum Fault {
    /// The job at this index requires a job that is not in the graph.
    Foreign(u32),
    /// A cycle, as job indices, the first one repeated at the end.
    Cycle(Vec<u32>),
}

/// What happens to requirements on removed jobs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dangling {
    /// They are dropped (asynciojobs sanitizes after `keep_only`).
    Drop,
    /// They stay, as requirements on a job that is not here: checks report
    /// them and `sanitize()` drops them (asynciojobs' `remove`).
    Keep,
}

/// The jobs of one scheduler and their requirements; see the module doc.
pub(crate) struct Graph {
    /// Identity of the scheduler, carried by its jobs' refs and handles.
    uid: u32,
    records: Vec<Record>,
    /// Requirements on jobs that are not here (another scheduler's, or
    /// removed ones): (job index, required job).
    foreign: Vec<(u32, JobRef)>,
    /// Shutdown hooks of future-based jobs, by job serial (rare, so kept aside).
    shutdowns: Vec<(u32, BoxFuture<'static, ()>)>,
    /// How listings show the results of the jobs that chose it, by serial (rare).
    texts: HashMap<u32, TextFn>,
    /// Serials of the nested schedulers, so checks need not scan every job.
    nested: Vec<u32>,
    /// Serial of the next job added.
    next_serial: u32,
    /// Serial -> index, once jobs have been removed (before that, serial == index).
    index_of: Option<Vec<u32>>,
    /// The plan of this level once it passed its check, kept until the
    /// structure changes; a run takes it instead of building it again.
    checked: std::cell::Cell<Option<Plan>>,
}

impl Graph {
    pub fn new() -> Self {
        Graph {
            uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
            records: Vec::new(),
            foreign: Vec::new(),
            shutdowns: Vec::new(),
            texts: HashMap::new(),
            nested: Vec::new(),
            next_serial: 0,
            index_of: None,
            checked: std::cell::Cell::new(None),
        }
    }

    /// Every structural change goes through here.
    fn changed(&mut self) {
        *self.checked.get_mut() = None;
    }

    pub fn uid(&self) -> u32 {
        self.uid
    }
    pub fn len(&self) -> usize {
        self.records.len()
    }
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
    pub fn records(&self) -> &[Record] {
        &self.records
    }
    pub fn record(&self, i: u32) -> &Record {
        &self.records[i as usize]
    }
    /// The records, for a run to start their jobs: a record's requirements
    /// cannot be changed through this.
    pub fn records_mut(&mut self) -> &mut [Record] {
        &mut self.records
    }

    /// The current index of a job of this graph; `None` for other
    /// schedulers' jobs and removed ones.
    pub fn resolve(&self, r: JobRef) -> Option<u32> {
        if r.scheduler() != self.uid {
            return None;
        }
        match &self.index_of {
            None => ((r.serial() as usize) < self.records.len()).then_some(r.serial()),
            Some(map) => map
                .get(r.serial() as usize)
                .copied()
                .filter(|&i| i != REMOVED),
        }
    }

    pub fn job_ref_at(&self, i: u32) -> JobRef {
        JobRef::new(self.uid, self.records[i as usize].serial)
    }

    /// The serial the next job added gets.
    pub fn next_serial(&self) -> u32 {
        self.next_serial
    }

    /// Adds a job whose cell was made for [`next_serial`](Self::next_serial);
    /// returns its index.
    pub fn push(
        &mut self,
        cell: Arc<dyn ErasedCell>,
        body: Body,
        shutdown: Option<BoxFuture<'static, ()>>,
        opts: JobOptions,
    ) -> u32 {
        self.changed();
        let serial = self.next_serial;
        self.next_serial += 1;
        let index = self.records.len() as u32;
        if let Some(map) = &mut self.index_of {
            map.push(index);
        }
        if let Some(hook) = shutdown {
            self.shutdowns.push((serial, hook));
        }
        if let Some(text) = opts.text {
            self.texts.insert(serial, text);
        }
        if body.nested().is_some() {
            self.nested.push(serial);
        }
        let labels = (opts.label.is_some() || opts.graph_label.is_some()).then(|| {
            Box::new(Labels {
                text: opts.label,
                graph: opts.graph_label,
            })
        });
        self.records.push(Record {
            cell,
            body,
            labels,
            requires: SmallVec::new(),
            critical: opts.critical,
            forever: opts.forever,
            serial,
        });
        for r in opts.requires {
            self.require(index, r);
        }
        index
    }

    /// Job `job` requires `req`: a job here, or one that is not (reported by
    /// checks, dropped by [`drop_foreign`](Self::drop_foreign)). A job
    /// requiring itself is ignored, as in the reference.
    pub fn require(&mut self, job: u32, req: JobRef) {
        self.changed();
        match self.resolve(req) {
            Some(q) if q == job => {}
            Some(q) => self.records[job as usize].requires.push(q),
            None => self.foreign.push((job, req)),
        }
    }

    /// Removes every requirement of `job` on `req`; false when it had none.
    pub fn unrequire(&mut self, job: u32, req: JobRef) -> bool {
        self.changed();
        let before = self.records[job as usize].requires.len() + self.foreign.len();
        match self.resolve(req) {
            Some(q) => self.records[job as usize].requires.retain(|i| *i != q),
            None => self.foreign.retain(|&(j, r)| !(j == job && r == req)),
        }
        before != self.records[job as usize].requires.len() + self.foreign.len()
    }

    /// The jobs `job` requires, once each: those here in the order they were
    /// required, then those that are not here.
    pub fn required(&self, job: u32) -> Vec<JobRef> {
        let mut out: Vec<JobRef> = Vec::new();
        for &q in &self.records[job as usize].requires {
            let r = self.job_ref_at(q);
            if !out.contains(&r) {
                out.push(r);
            }
        }
        for &(j, r) in &self.foreign {
            if j == job && !out.contains(&r) {
                out.push(r);
            }
        }
        out
    }

    /// How many requirements of `job` are on jobs that are not here.
    pub fn foreign_count(&self, job: u32) -> usize {
        self.foreign.iter().filter(|(j, _)| *j == job).count()
    }

    /// Drops the requirements on jobs that are not here; true when there were none.
    pub fn drop_foreign(&mut self) -> bool {
        if self.foreign.is_empty() {
            return true;
        }
        self.changed();
        self.foreign.clear();
        false
    }

    /// The nested schedulers of this level.
    pub fn nested(&self) -> impl Iterator<Item = &dyn NestedHooks> + '_ {
        self.nested.iter().filter_map(move |&serial| {
            let i = self.resolve(JobRef::new(self.uid, serial))?;
            self.records[i as usize].nested()
        })
    }

    /// The result of job `i` as listings show it, once done without error.
    pub fn result_text(&self, i: u32) -> Option<String> {
        let r = &self.records[i as usize];
        match self.texts.get(&r.serial) {
            Some(text) => r.cell.result_any().and_then(text),
            None => r.default_result_text(),
        }
    }

    /// The shutdown hooks of future-based jobs; each is taken once.
    pub fn take_shutdown_hooks(&mut self) -> Vec<BoxFuture<'static, ()>> {
        std::mem::take(&mut self.shutdowns)
            .into_iter()
            .map(|(_, hook)| hook)
            .collect()
    }

    /// Removes the jobs flagged in `gone`; requirements on them are dropped or
    /// kept as requirements on jobs that are not here. Handles of the others
    /// stay valid (they name jobs by serial, not index).
    pub fn remove(&mut self, gone: &[bool], dangling: Dangling) {
        self.changed();
        let mut new_index = vec![REMOVED; self.records.len()];
        let mut next = 0u32;
        for (i, g) in gone.iter().enumerate() {
            if !g {
                new_index[i] = next;
                next += 1;
            }
        }
        let removed: std::collections::HashSet<u32> = (0..gone.len())
            .filter(|&i| gone[i])
            .map(|i| self.records[i].serial)
            .collect();
        let uid = self.uid;
        let serial_at: Vec<u32> = self.records.iter().map(|r| r.serial).collect();
        self.foreign.retain_mut(|(j, _)| {
            *j = new_index[*j as usize];
            *j != REMOVED
        });
        self.shutdowns
            .retain(|(serial, _)| !removed.contains(serial));
        self.texts.retain(|serial, _| !removed.contains(serial));
        self.nested.retain(|serial| !removed.contains(serial));
        let mut i = 0;
        self.records.retain(|_| {
            i += 1;
            !gone[i - 1]
        });
        for (at, r) in self.records.iter_mut().enumerate() {
            r.requires.retain_mut(|q| {
                let old = *q as usize;
                *q = new_index[old];
                if *q == REMOVED && dangling == Dangling::Keep {
                    self.foreign
                        .push((at as u32, JobRef::new(uid, serial_at[old])));
                }
                *q != REMOVED
            });
        }
        let map = self
            .index_of
            .get_or_insert_with(|| (0..gone.len() as u32).collect());
        for slot in map.iter_mut() {
            if *slot != REMOVED {
                *slot = new_index[*slot as usize];
            }
        }
    }

    /// Removes job `j`; the jobs that required it inherit its requirements.
    pub fn bypass(&mut self, j: u32) {
        self.changed();
        let inherited = self.records[j as usize].requires.clone();
        for r in &mut self.records {
            if r.requires.contains(&j) {
                r.requires.retain(|q| *q != j);
                r.requires.extend(inherited.iter().copied());
            }
        }
        let mut gone = vec![false; self.records.len()];
        gone[j as usize] = true;
        self.remove(&gone, Dangling::Drop);
    }

    /// The plan of the current structure (not cached: see [`check`](Self::check)).
    pub fn plan(&self) -> Plan {
        Plan::build(self.records.len(), |i| &self.records[i].requires)
    }

    /// Checks this level, not nested schedulers: no requirement on a job that
    /// is not here, no cycle. The plan is kept for the run.
    pub fn check(&self) -> Result<(), Fault> {
        let plan = self.checked_plan()?;
        self.checked.set(Some(plan));
        Ok(())
    }

    /// The plan that passed the check, for a run to consume.
    pub fn take_checked_plan(&mut self) -> Result<Plan, Fault> {
        self.checked_plan()
    }

    fn checked_plan(&self) -> Result<Plan, Fault> {
        if let Some(plan) = self.checked.take() {
            return Ok(plan);
        }
        let plan = self.plan();
        self.order_of(&plan)?;
        Ok(plan)
    }

    /// A topological order of this level, or what prevents one.
    fn order_of(&self, plan: &Plan) -> Result<Vec<u32>, Fault> {
        if let Some(&(job, _)) = self.foreign.first() {
            return Err(Fault::Foreign(job));
        }
        plan.topological()
            .map_err(|left| Fault::Cycle(self.cycle_through(&left)))
    }

    /// One cycle among the jobs Kahn could not order, the first job repeated at the end.
    fn cycle_through(&self, left: &[u32]) -> Vec<u32> {
        let mut on = vec![false; self.records.len()];
        left.iter().for_each(|&i| on[i as usize] = true);
        let mut seen_at = vec![usize::MAX; self.records.len()];
        let mut path: Vec<u32> = Vec::new();
        let mut cur = left[0];
        // every job left over has a requirement left over: walk them until one repeats
        while seen_at[cur as usize] == usize::MAX {
            seen_at[cur as usize] = path.len();
            path.push(cur);
            match self.records[cur as usize]
                .requires
                .iter()
                .find(|&&q| on[q as usize])
            {
                Some(&q) => cur = q,
                None => break,
            }
        }
        let start = seen_at[cur as usize].min(path.len().saturating_sub(1));
        let mut cycle = path[start..].to_vec();
        cycle.push(cur);
        cycle
    }

    /// Job indices in listing order: the reference's repeated passes over the jobs
    /// in insertion order, computed in O(V+E): a job goes in the pass of its
    /// latest requirement, or the next one when that requirement comes after it.
    pub fn listing_order(&self) -> Result<Vec<u32>, Fault> {
        let plan = self.plan();
        let topo = self.order_of(&plan)?;
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

    /// The listing id of each job of this level, by index, and the id width,
    /// as a snapshot numbers them, without building the views.
    pub fn listing_ids(&self) -> Result<(Vec<usize>, usize), Fault> {
        let mut ids = vec![0; self.records.len()];
        let mut next = 1;
        for i in self.listing_order()? {
            ids[i as usize] = next;
            next += 1 + self.records[i as usize].nested_size();
        }
        Ok((ids, id_width(next - 1)))
    }

    /// Breadth-first closure from `starts` along successors (`down`) or
    /// requirements; the starts are in it only when reached again.
    pub fn closure(&self, starts: &[u32], down: bool) -> Vec<bool> {
        let plan = down.then(|| self.plan());
        let mut seen = vec![false; self.records.len()];
        let mut queue: Vec<u32> = starts.to_vec();
        while let Some(i) = queue.pop() {
            let next: &[u32] = match &plan {
                Some(plan) => plan.successors(i),
                None => &self.records[i as usize].requires,
            };
            for &n in next {
                if !seen[n as usize] {
                    seen[n as usize] = true;
                    queue.push(n);
                }
            }
        }
        seen
    }

    /// Jobs that directly require one of `jobs` (flagged by index).
    pub fn successors_of(&self, jobs: &[bool]) -> Vec<bool> {
        self.records
            .iter()
            .map(|r| r.requires.iter().any(|&q| jobs[q as usize]))
            .collect()
    }

    /// Jobs that one of `jobs` (flagged by index) directly requires.
    pub fn predecessors_of(&self, jobs: &[bool]) -> Vec<bool> {
        let mut out = vec![false; self.records.len()];
        for (r, _) in self.records.iter().zip(jobs).filter(|(_, &on)| on) {
            r.requires.iter().for_each(|&q| out[q as usize] = true);
        }
        out
    }

    /// Indices of the jobs flagged, in insertion order.
    pub fn flagged(flags: &[bool]) -> impl Iterator<Item = u32> + '_ {
        (0..flags.len() as u32).filter(|&i| flags[i as usize])
    }
}
