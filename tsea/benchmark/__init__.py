"""tsea.benchmark"""
