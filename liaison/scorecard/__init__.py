"""The yearly station scorecard (站点年度考核): figures per station per year, weighted by HQ."""
