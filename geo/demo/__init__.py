"""The demo city: a deterministic, synthetic city inside the real 碧江区 boundary.

Calibrated to seed 003 (碧江: 7 streets, 43 communities, 197 grids, 100 full-time and 1,060
part-time grid workers, 5,400 in-service party members registered at home, 8,000 volunteers,
28 party-mass service centres). Geometry, names and phones are synthetic.
"""
