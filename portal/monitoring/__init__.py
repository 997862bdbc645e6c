"""Follow-up for MTTQ and ward leaders: deadlines, the dashboard, supervision remarks."""
