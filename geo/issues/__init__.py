"""民情 from report to resolution: intake and routing to a grid, time limits, the status flow
and its role rules, photos, the public status page and board, supervision figures."""
