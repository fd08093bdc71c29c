"""Pipelines as code: documents, plans, apply and export (`sluice apply|diff|export`)."""
