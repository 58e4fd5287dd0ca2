"""Evaluation: image metrics (IS, FID, SSIM), the attribute classifier, edit metrics, reports."""
