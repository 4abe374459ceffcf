-- The words a run was planned from (NULL for a run submitted with a plan), so the runs
-- list can find runs by their goal as well as by id. Runs created before this column keep
-- their goal only in their planning record (`planning/RUN_ID` in the store).
ALTER TABLE runs ADD COLUMN goal TEXT;
