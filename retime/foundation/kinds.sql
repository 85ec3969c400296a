-- What an event's kind and name say it is, in one place: the kinds that are GPU ops, and the
-- annotations that are steps. The readers (retime/ingest/), the derived tables, the queries and
-- the exports all ask these macros, and retime/foundation/__init__.py reads STEP_PATTERN from here.

-- Whether an event of this kind is an op a GPU stream runs: a kernel, a collective kernel (NCCL,
-- RCCL), a copy or a memset.
-- @arg kind VARCHAR events.kind
-- @returns BOOLEAN
CREATE OR REPLACE TEMP MACRO is_gpu_op(kind) AS
    kind IN ('kernel', 'collective', 'memcpy', 'memset');

-- The annotation names torch.profiler gives its iteration windows, ProfilerStep#N: the steps every
-- answer reports unless it is given another pattern.
-- @returns VARCHAR a regular expression over annotation names
CREATE OR REPLACE TEMP MACRO step_pattern() AS
    '^ProfilerStep#[0-9]+$';
