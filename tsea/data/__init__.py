"""tsea.data"""
