"""tsea.training"""
