"""The Hardware panel's views: the SM grid, the roofline chart and the bank-conflicts pair."""
