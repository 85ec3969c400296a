-- The accelerators of gpus.toml as a table (priority: the preset's place in the file), for
-- hardware.sql. foundation.load registers the file's rows as gpu_presets_data before running this.
CREATE OR REPLACE TEMP TABLE gpu_presets AS
SELECT priority::INTEGER AS priority, preset::VARCHAR AS preset, match::VARCHAR AS match,
       hbm_tb_s, bf16_tflops, fp32_tflops, tf32_tflops, fp8_tflops, pcie_gb_s, interconnect_gb_s
FROM gpu_presets_data;
