//! [`Scheduler`]: holds jobs and their requirements, runs them, reports on them.

use std::sync::atomic::{AtomicU32, Ordering};

use futures::future::BoxFuture;
use smallvec::SmallVec;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::error::SchedulerError;
use crate::handle::{Cell, ErasedCell, JobHandle, JobRef};
use crate::job::{
    label_from_type_name, Addable, AsJobRef, Body, JobOptions, NestedBody, Requirements,
};
use crate::listing::format_secs;

static NEXT_UID: AtomicU32 = AtomicU32::new(1);

/// Marks a removed job in index maps.
const REMOVED: u32 = u32::MAX;

/// One job as the scheduler keeps it.
pub(crate) struct Record {
    pub cell: Arc<dyn ErasedCell>,
    pub body: Body,
    /// Boxed twice so an unlabelled job pays one pointer, not a fat one.
    #[allow(clippy::box_collection)]
    pub label: Option<Box<String>>,
    /// Indices of required jobs in this scheduler (duplicates allowed, harmless).
    pub requires: SmallVec<[u32; 4]>,
    pub critical: bool,
    pub forever: bool,
    /// Stable identity within the scheduler (indices shift when jobs are removed).
    pub serial: u32,
}

impl Record {
    pub fn label(&self) -> String {
        if let Some(l) = &self.label {
            return l.to_string();
        }
        match &self.body {
            Body::Future { name, .. } => label_from_type_name(name()).to_string(),
            Body::Abstract(j) => j.default_label(),
        }
    }
    pub fn kind(&self) -> String {
        match &self.body {
            Body::Future { .. } => "Job".into(),
            Body::Abstract(j) => j.kind(),
        }
    }
    /// Number of jobs inside this job when it is a nested scheduler, at any depth.
    pub fn nested_size(&self) -> usize {
        let Some(slot) = self.body.nested() else {
            return 0;
        };
        slot.lock().get().map_or(0, |inner| {
            inner.records.iter().map(|r| 1 + r.nested_size()).sum()
        })
    }

    /// The result as listings show it (the job kind may format it).
    pub fn result_text(&self) -> Option<String> {
        match &self.body {
            Body::Abstract(j) => j.result_text(),
            Body::Future { .. } => self.cell.result_text(),
        }
    }
    pub fn details(&self) -> Option<String> {
        match &self.body {
            Body::Abstract(j) => j.details(),
            _ => None,
        }
    }
}

/// Where a nested scheduler lives while its parent owns it; its run borrows it
/// out and puts it back even when cancelled.
pub(crate) struct NestedSlot(Mutex<Option<Box<Scheduler>>>);

impl NestedSlot {
    pub fn new(s: Scheduler) -> Self {
        NestedSlot(Mutex::new(Some(Box::new(s))))
    }
    pub fn lock(&self) -> NestedGuard<'_> {
        NestedGuard(self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
    pub fn take(&self) -> Option<Box<Scheduler>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
    /// Borrows the scheduler out until the lease is dropped (even by cancellation).
    pub fn lease(self: &Arc<Self>) -> Option<Lease> {
        self.take().map(|s| Lease {
            slot: Arc::clone(self),
            sched: Some(s),
        })
    }
    pub fn put(&self, s: Box<Scheduler>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(s);
    }
}

/// A nested scheduler borrowed out of its slot; goes back on drop.
pub(crate) struct Lease {
    slot: Arc<NestedSlot>,
    sched: Option<Box<Scheduler>>,
}

impl std::ops::Deref for Lease {
    type Target = Scheduler;
    fn deref(&self) -> &Scheduler {
        self.sched
            .as_deref()
            .expect("a lease holds its scheduler until dropped")
    }
}
impl std::ops::DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut Scheduler {
        self.sched
            .as_deref_mut()
            .expect("a lease holds its scheduler until dropped")
    }
}
impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(mut s) = self.sched.take() {
            if s.outcome == Outcome::Running {
                s.outcome = Outcome::Cancelled;
            }
            self.slot.put(s);
        }
    }
}

/// Borrow of a nested scheduler (absent only while it is running).
pub(crate) struct NestedGuard<'a>(MutexGuard<'a, Option<Box<Scheduler>>>);
impl NestedGuard<'_> {
    pub fn get(&self) -> Option<&Scheduler> {
        self.0.as_deref()
    }
    pub(crate) fn label(&self) -> String {
        self.get()
            .map(Scheduler::get_label)
            .unwrap_or_else(|| "Scheduler (running)".into())
    }
}

/// How the last run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Outcome {
    #[default]
    NotRun,
    Running,
    Fine,
    TimedOut,
    CriticalFailed,
    /// Its parent cancelled it while it ran.
    Cancelled,
}

/// A set of jobs with requirements between them, run concurrently on tokio.
///
/// A scheduler is itself a job: [`add`](Scheduler::add) one to another and it runs
/// as one job of its parent, with its own `timeout` and `jobs_window` applying to
/// its content. Schedulers are critical by default, as in asynciojobs.
///
/// ```
/// use asyncjobs_core::{Job, Scheduler};
/// use std::time::Duration;
///
/// let mut s = Scheduler::new().label("example").timeout(Duration::from_secs(5));
/// let a = s.add(Job::ok(async { "a" }).label("a"));
/// let b = s.add(Job::ok(async { "b" }).label("b").requires(&a));
/// assert!(s.run().unwrap());
/// assert_eq!(b.result(), Some(&"b"));
/// assert_eq!(s.why(), "FINE");
/// ```
pub struct Scheduler {
    pub(crate) uid: u32,
    pub(crate) records: Vec<Record>,
    /// Requirements on jobs of other schedulers: (job index, foreign job).
    pub(crate) foreign: Vec<(u32, JobRef)>,
    /// Shutdown hooks of future-based jobs, by job serial (rare, so kept aside).
    pub(crate) shutdowns: Vec<(u32, BoxFuture<'static, ()>)>,
    /// Serial of the next job added.
    pub(crate) next_serial: u32,
    /// Serial -> index, once jobs have been removed (before that, serial == index).
    pub(crate) index_of: Option<Vec<u32>>,
    /// The tree passed `check()` and has not changed since: the plan that check built,
    /// which the run takes instead of checking and building it again.
    pub(crate) checked: std::cell::Cell<Option<crate::graph::Plan>>,
    pub(crate) label: Option<String>,
    pub(crate) as_job: JobOptions,
    pub(crate) timeout: Option<Duration>,
    pub(crate) jobs_window: usize,
    pub(crate) shutdown_timeout: Option<Duration>,
    pub(crate) outcome: Outcome,
    pub(crate) shut_down: bool,
    /// Where the live feed of a verbose run goes.
    pub(crate) feedback: Option<Box<dyn std::io::Write + Send>>,
}

impl Default for Scheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scheduler `{}` with {}", self.get_label(), self.stats())
    }
}

impl Scheduler {
    /// An empty, critical scheduler with no timeout and no window.
    pub fn new() -> Self {
        Scheduler {
            uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
            records: Vec::new(),
            foreign: Vec::new(),
            shutdowns: Vec::new(),
            next_serial: 0,
            index_of: None,
            checked: std::cell::Cell::new(None),
            label: None,
            as_job: JobOptions::default(),
            timeout: None,
            jobs_window: 0,
            shutdown_timeout: Some(Duration::from_secs(1)),
            outcome: Outcome::NotRun,
            shut_down: false,
            feedback: None,
        }
    }

    /// Label shown in listings, errors and graphs; by default `Scheduler[N jobs]`.
    pub fn get_label(&self) -> String {
        self.label
            .clone()
            .unwrap_or_else(|| format!("Scheduler[{} jobs]", self.records.len()))
    }

    /// Sets the label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Whether a failure (timeout or critical job failure) is an error rather than `Ok(false)`.
    /// Default: true. As a nested job, also whether its failure aborts the parent.
    pub fn critical(mut self, critical: bool) -> Self {
        self.as_job.critical = critical;
        self
    }

    /// As a nested job: whether it runs forever (cancelled once its siblings are done).
    pub fn forever(mut self, forever: bool) -> Self {
        self.as_job.forever = forever;
        self
    }

    /// As a nested job: jobs of the parent that must be done before this scheduler starts.
    pub fn requires(mut self, reqs: impl Requirements) -> Self {
        reqs.push_refs(&mut self.as_job.requires);
        self
    }

    /// A limit on the whole run's duration; when it expires, running jobs are cancelled.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// At most this many jobs run at once; 0 means no limit.
    pub fn jobs_window(mut self, window: usize) -> Self {
        self.jobs_window = window;
        self
    }

    /// Prints a live feed of the run on stderr, as asynciojobs' verbose mode: a
    /// line as each job starts, finishes or fails, and one when the run ends,
    /// with the time elapsed and the job's listing id.
    ///
    /// ```text
    /// 000.000 STARTING 1 <Job `b1`>
    /// 000.100 DONE     1 <Job `b1`>[[ -> 100.0]]
    /// 000.300 FINISHED scheduler `sb`: FINE
    /// ```
    pub fn verbose(mut self, on: bool) -> Self {
        self.feedback = if on {
            Some(Box::new(std::io::stderr()))
        } else {
            None
        };
        self
    }

    /// The feed of [`verbose`](Self::verbose), written into `out` instead of stderr.
    pub fn feedback_to(mut self, out: impl std::io::Write + Send + 'static) -> Self {
        self.feedback = Some(Box::new(out));
        self
    }

    /// How long [`shutdown`](Self::shutdown) waits for the jobs' `co_shutdown` (default 1 s; `None`: no limit).
    pub fn shutdown_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Whether this scheduler is critical.
    pub fn is_critical(&self) -> bool {
        self.as_job.critical
    }
    /// Whether this scheduler, as a nested job, is forever.
    pub fn is_forever(&self) -> bool {
        self.as_job.forever
    }
    /// The timeout, if any.
    pub fn get_timeout(&self) -> Option<Duration> {
        self.timeout
    }
    /// The jobs window (0: unlimited).
    pub fn get_jobs_window(&self) -> usize {
        self.jobs_window
    }

    /// Adds a job, an [`AbstractJob`](crate::AbstractJob), a nested scheduler or a
    /// [`Sequence`](crate::Sequence); returns its handle. The item is moved in, so a
    /// job cannot belong to two schedulers.
    pub fn add<A: Addable>(&mut self, item: A) -> A::Handle {
        item.add_after(self, None).0
    }

    /// Number of jobs directly in this scheduler (a nested scheduler counts as one).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when there is no job.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Makes `job` require `reqs`, after both were added.
    ///
    /// `job` must be a job of this scheduler; requirements on jobs of other
    /// schedulers are reported when the scheduler is run or checked.
    pub fn add_requirement(
        &mut self,
        job: &impl AsJobRef,
        reqs: impl Requirements,
    ) -> Result<(), SchedulerError> {
        let job = self.own(job.as_job_ref())?;
        let mut refs = Vec::new();
        reqs.push_refs(&mut refs);
        for r in refs {
            self.push_requirement(job, r);
        }
        Ok(())
    }

    /// Removes a requirement; an error if `job` is not here or did not have it.
    pub fn remove_requirement(
        &mut self,
        job: &impl AsJobRef,
        req: &impl AsJobRef,
    ) -> Result<(), SchedulerError> {
        let job = self.own(job.as_job_ref())?;
        let req = req.as_job_ref();
        self.checked.set(None);
        let before = self.records[job as usize].requires.len() + self.foreign.len();
        match self.resolve(req) {
            Some(q) => self.records[job as usize].requires.retain(|i| *i != q),
            None => self.foreign.retain(|&(j, r)| !(j == job && r == req)),
        }
        if before == self.records[job as usize].requires.len() + self.foreign.len() {
            return Err(SchedulerError::NoSuchRequirement {
                scheduler: self.get_label(),
                job: self.records[job as usize].label(),
            });
        }
        Ok(())
    }

    /// The current index of a job of this scheduler; `None` for other
    /// schedulers' jobs and removed ones.
    pub(crate) fn resolve(&self, r: JobRef) -> Option<u32> {
        if r.scheduler != self.uid {
            return None;
        }
        match &self.index_of {
            None => ((r.serial as usize) < self.records.len()).then_some(r.serial),
            Some(map) => map
                .get(r.serial as usize)
                .copied()
                .filter(|&i| i != REMOVED),
        }
    }

    pub(crate) fn own(&self, job: JobRef) -> Result<u32, SchedulerError> {
        self.resolve(job)
            .ok_or_else(|| SchedulerError::NotInScheduler {
                scheduler: self.get_label(),
            })
    }

    /// Records that job (an index here) requires `req`: an index here, or a
    /// foreign requirement reported by `check()` and dropped by `sanitize()`.
    pub(crate) fn push_requirement(&mut self, job: u32, req: JobRef) {
        self.checked.set(None);
        match self.resolve(req) {
            Some(q) if q == job => {} // a job requiring itself is ignored, as in the reference
            Some(q) => self.records[job as usize].requires.push(q),
            None => self.foreign.push((job, req)),
        }
    }

    pub(crate) fn job_ref_at(&self, index: usize) -> JobRef {
        JobRef {
            scheduler: self.uid,
            serial: self.records[index].serial,
        }
    }

    /// Adds a record built by `make` from the new job's cell.
    pub(crate) fn push_record<T>(
        &mut self,
        opts: JobOptions,
        make: impl FnOnce(Arc<Cell<T>>) -> (Body, Option<BoxFuture<'static, ()>>),
    ) -> JobHandle<T>
    where
        T: std::fmt::Debug + Send + Sync + 'static,
    {
        let serial = self.next_serial;
        self.next_serial += 1;
        self.checked.set(None);
        let index = self.records.len() as u32;
        if let Some(map) = &mut self.index_of {
            map.push(index);
        }
        let cell = Arc::new(Cell::new(serial));
        let (body, shutdown) = make(Arc::clone(&cell));
        if let Some(hook) = shutdown {
            self.shutdowns.push((serial, hook));
        }
        self.records.push(Record {
            cell: cell.clone(),
            body,
            label: opts.label.map(Box::new),
            requires: SmallVec::new(),
            critical: opts.critical,
            forever: opts.forever,
            serial,
        });
        for r in opts.requires {
            self.push_requirement(index, r);
        }
        JobHandle {
            cell,
            scheduler: self.uid,
        }
    }

    /// Removes the jobs flagged in `gone`, dropping every requirement on them;
    /// handles of the others stay valid (they name jobs by serial, not index).
    pub(crate) fn remove_flagged(&mut self, gone: &[bool]) {
        self.checked.set(None);
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
        self.shutdowns
            .retain(|(serial, _)| !removed.contains(serial));
        let mut i = 0;
        self.records.retain(|_| {
            i += 1;
            !gone[i - 1]
        });
        for r in &mut self.records {
            r.requires.retain_mut(|q| {
                *q = new_index[*q as usize];
                *q != REMOVED
            });
        }
        self.foreign.retain_mut(|(j, _)| {
            *j = new_index[*j as usize];
            *j != REMOVED
        });
        let map = self
            .index_of
            .get_or_insert_with(|| (0..gone.len() as u32).collect());
        for slot in map.iter_mut() {
            if *slot != REMOVED {
                *slot = new_index[*slot as usize];
            }
        }
    }

    /// `"{done}D + {ongoing}R + {idle}I = {total}"`, as the reference's `stats()`.
    pub fn stats(&self) -> String {
        use crate::handle::JobState::*;
        let (mut done, mut running) = (0, 0);
        for r in &self.records {
            match r.cell.state() {
                Done => done += 1,
                Running | Cancelled => running += 1,
                Idle | Scheduled => {}
            }
        }
        let total = self.records.len();
        format!(
            "{done}D + {running}R + {}I = {total}",
            total - done - running
        )
    }

    /// True when the last run ended because a critical job failed.
    pub fn failed_critical(&self) -> bool {
        self.outcome == Outcome::CriticalFailed
    }

    /// The timeout, when the last run ended because of it.
    pub fn failed_time_out(&self) -> Option<Duration> {
        match self.outcome {
            Outcome::TimedOut => self.timeout,
            _ => None,
        }
    }

    /// True when the last run was cancelled by a parent scheduler before it ended.
    pub fn was_cancelled(&self) -> bool {
        self.outcome == Outcome::Cancelled
    }

    /// Whether the scheduler has been run (or is running).
    pub fn has_run(&self) -> bool {
        self.outcome != Outcome::NotRun
    }

    /// Why the last run failed: `"TIMED OUT after {t}s"`, `"a CRITICAL job has raised an exception"`, or `"FINE"`.
    pub fn why(&self) -> String {
        if let Some(t) = self.failed_time_out() {
            format!("TIMED OUT after {}s", format_secs(t))
        } else if self.failed_critical() {
            "a CRITICAL job has raised an exception".to_string()
        } else if self.was_cancelled() {
            "CANCELLED by its parent before it ended".to_string()
        } else {
            "FINE".to_string()
        }
    }

    /// Removes requirements on jobs that are not directly in this scheduler
    /// (outsiders, jobs of nested schedulers), here and in nested schedulers.
    /// Returns true when nothing had to be removed.
    pub fn sanitize(&mut self) -> bool {
        let mut clean = self.foreign.is_empty();
        self.foreign.clear();
        for r in &mut self.records {
            if let Some(slot) = r.body.nested() {
                if let Some(mut inner) = slot.lease() {
                    clean &= inner.sanitize();
                }
            }
        }
        clean
    }

    /// Calls `f` on every nested scheduler directly in this one.
    pub(crate) fn for_each_nested(&self, mut f: impl FnMut(usize, &Scheduler)) {
        for (i, r) in self.records.iter().enumerate() {
            if let Some(slot) = r.body.nested() {
                if let Some(inner) = slot.lock().get() {
                    f(i, inner);
                }
            }
        }
    }
}

impl Addable for Scheduler {
    type Handle = JobHandle<bool>;
    /// A nested scheduler is one job of its parent; its result is what its run returned.
    fn add_after(
        mut self,
        s: &mut Scheduler,
        prev: Option<JobRef>,
    ) -> (JobHandle<bool>, Option<(JobRef, JobRef)>) {
        let mut opts = std::mem::take(&mut self.as_job);
        opts.requires.extend(prev);
        // the label lives in the nested scheduler itself
        opts.label = None;
        let (critical, forever) = (opts.critical, opts.forever);
        self.as_job.critical = critical;
        self.as_job.forever = forever;
        let slot = Arc::new(NestedSlot::new(self));
        let h = s.push_record(opts, |cell| {
            (Body::Abstract(Box::new(NestedBody { slot, cell })), None)
        });
        let r = h.job_ref();
        (h, Some((r, r)))
    }
}
