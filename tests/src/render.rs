//! Rendering of run outputs as text (filled in with the pipeline).
