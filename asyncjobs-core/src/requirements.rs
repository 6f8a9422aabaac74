//! What a job can require ([`Requirements`]: handles, refs, collections of
//! them) and what names one job ([`AsJobRef`]).

use std::fmt::Debug;

use crate::handle::{JobHandle, JobRef};

/// Things a job can require: handles, refs, sequences (their last job), and
/// collections of them (arrays, slices, `Vec`, `Option`, tuples).
pub trait Requirements {
    /// Appends the required jobs to `out`.
    fn push_refs(&self, out: &mut Vec<JobRef>);
}

impl Requirements for JobRef {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        out.push(*self)
    }
}
impl<T: Debug + Send + Sync> Requirements for JobHandle<T> {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        out.push(self.job_ref())
    }
}
impl<R: Requirements + ?Sized> Requirements for &R {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        (**self).push_refs(out)
    }
}
impl<R: Requirements> Requirements for [R] {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        self.iter().for_each(|r| r.push_refs(out))
    }
}
impl<R: Requirements, const N: usize> Requirements for [R; N] {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        self.iter().for_each(|r| r.push_refs(out))
    }
}
impl<R: Requirements> Requirements for Vec<R> {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        self.iter().for_each(|r| r.push_refs(out))
    }
}
impl<R: Requirements> Requirements for Option<R> {
    fn push_refs(&self, out: &mut Vec<JobRef>) {
        if let Some(r) = self {
            r.push_refs(out)
        }
    }
}
macro_rules! tuple_requirements {
    ($($name:ident)+) => {
        impl<$($name: Requirements),+> Requirements for ($($name,)+) {
            #[allow(non_snake_case)]
            fn push_refs(&self, out: &mut Vec<JobRef>) {
                let ($($name,)+) = self;
                $($name.push_refs(out);)+
            }
        }
    };
}
tuple_requirements!(A B);
tuple_requirements!(A B C);
tuple_requirements!(A B C D);
tuple_requirements!(A B C D E);
tuple_requirements!(A B C D E F);

/// Anything that names one job: a handle or a [`JobRef`].
pub trait AsJobRef {
    /// The job's identity.
    fn as_job_ref(&self) -> JobRef;
}
impl AsJobRef for JobRef {
    fn as_job_ref(&self) -> JobRef {
        *self
    }
}
impl<T: Debug + Send + Sync> AsJobRef for JobHandle<T> {
    fn as_job_ref(&self) -> JobRef {
        self.job_ref()
    }
}
impl<A: AsJobRef + ?Sized> AsJobRef for &A {
    fn as_job_ref(&self) -> JobRef {
        (**self).as_job_ref()
    }
}
