-- What both readers (Chrome/Kineto and Nsight Systems) mean by a collective kernel, in one place.

-- A kernel that moves data between GPUs: NCCL or RCCL ('ncclKernel_AllReduce_...',
-- 'ncclDevKernel_SendRecv', 'rcclKernel...').
CREATE OR REPLACE TEMP MACRO is_collective_kernel(name) AS
    regexp_matches(coalesce(name, ''), '^(nccl|rccl)|nccl(Dev)?Kernel', 'i');

-- The collective a kernel's name says it runs: 'AllReduce', 'SendRecv', ... (NULL when it does not say).
CREATE OR REPLACE TEMP MACRO collective_op_from_name(name) AS
    nullif(regexp_extract(coalesce(name, ''), '(?i)(?:nccl|rccl)(?:Dev)?Kernel_([A-Za-z]+)', 1), '');
